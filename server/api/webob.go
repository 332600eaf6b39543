package api

import (
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Glance's errors are webob's HTTP exceptions: the body is chosen by the
// Accept header among text/html (first choice, so also for */* and for no
// Accept at all, which is what glanceclient sends), application/json (a
// flat {"message", "code", "title"} object, for clients asking for JSON
// only) and text/plain. glanceclient cannot read the JSON form (it expects
// the message one level down); it reads the HTML one.

// WebobDetail marks (in Error.Type) a Glance error whose message is webob's
// "detail", shown after the exception's standard explanation.
const WebobDetail = "webob-detail"

// webobExplanations are webob's standard explanations per status.
var webobExplanations = map[int]string{
	400: "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n",
	403: "Access was denied to this resource.",
	404: "The resource could not be found.",
	409: "There was a conflict when trying to complete your request.",
	410: "This resource is no longer available.  No forwarding address is given.",
	413: "The body of your request was too large for this server.",
}

// webobTitle is the reason phrase webob uses.
func webobTitle(status int) string {
	if status == http.StatusRequestedRangeNotSatisfiable {
		return "Request Range Not Satisfiable"
	}
	return http.StatusText(status)
}

// webobBody is the exception's body text before it is put in a document:
// explanation, then detail, per webob's templates (405 and 415 have their
// own).
func webobBody(c echo.Context, e *Error, escape func(string) string) string {
	switch e.Status {
	case http.StatusMethodNotAllowed:
		return "The method " + escape(c.Request().Method) + " is not allowed for this resource. <br /><br />\n"
	case http.StatusUnsupportedMediaType:
		ct := c.Request().Header.Get(echo.HeaderContentType)
		return "The request media type " + escape(ct) + " is not supported by this server.\n<br /><br />\n" + escape(e.Message)
	}
	explanation, detail := e.Message, ""
	if e.Type == WebobDetail {
		explanation, detail = webobExplanations[e.Status], e.Message
	}
	return escape(explanation) + "<br /><br />\n" + escape(detail) + "\n\n"
}

// acceptOffer picks webob's answer type for an Accept header: the offer
// (text/html, then application/json) with the highest quality, "" when
// neither is acceptable.
func acceptOffer(accept string) string {
	offers := []string{"text/html", "application/json"}
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	best, bestQ := "", 0.0
	for _, offer := range offers {
		q, specificity := 0.0, -1
		for _, part := range strings.Split(accept, ",") {
			fields := strings.Split(part, ";")
			mr := strings.ToLower(strings.TrimSpace(fields[0]))
			rq := 1.0
			for _, p := range fields[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.TrimSpace(k) == "q" {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						rq = f
					}
				}
			}
			typ, _, _ := strings.Cut(offer, "/")
			s := -1
			switch mr {
			case offer:
				s = 2
			case typ + "/*":
				s = 1
			case "*/*":
				s = 0
			}
			if s > specificity {
				q, specificity = rq, s
			}
		}
		if specificity >= 0 && q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

var (
	brTag  = regexp.MustCompile(`(?is)<br.*?>`)
	anyTag = regexp.MustCompile(`(?s)<.*?>`)
)

// writeWebob answers e as Glance (webob) does.
func writeWebob(c echo.Context, e *Error) error {
	for k, vs := range e.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	status := strconv.Itoa(e.Status) + " " + webobTitle(e.Status)
	var ctype, body string
	switch acceptOffer(c.Request().Header.Get(echo.HeaderAccept)) {
	case "text/html":
		ctype = "text/html; charset=UTF-8"
		body = "<html>\n <head>\n  <title>" + status + "</title>\n </head>\n <body>\n  <h1>" + status + "</h1>\n  " +
			webobBody(c, e, html.EscapeString) + "\n </body>\n</html>"
	case "application/json":
		ctype = "application/json"
		doc, _ := Marshal(Object{
			{Key: "message", Value: webobBody(c, e, func(s string) string { return s })},
			{Key: "code", Value: status},
			{Key: "title", Value: webobTitle(e.Status)},
		})
		body = string(doc)
	default:
		ctype = "text/plain; charset=UTF-8"
		text := strings.ReplaceAll(webobBody(c, e, func(s string) string { return s }), "\n", " ")
		text = strings.ReplaceAll(text, "\r", "")
		text = anyTag.ReplaceAllString(brTag.ReplaceAllString(text, "\n"), "")
		body = status + "\n\n" + text
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, ctype)
		return c.NoContent(e.Status)
	}
	return c.Blob(e.Status, ctype, []byte(body))
}
