package console

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/server/instance"
)

// binaryProtocol is websockify's subprotocol for raw bytes in binary
// frames, which noVNC and Tempest ask for.
const binaryProtocol = "binary"

// readBuffer is the most read from a guest stream at once: each read
// becomes one websocket message, so an RFB message written whole by the
// server travels in one frame.
const readBuffer = 64 << 10

// clientReadLimit bounds one message from a client (RFB client messages
// are small; a clipboard paste is the largest).
const clientReadLimit = 1 << 20

func (s *Service) vncProxy(c echo.Context) error {
	return s.proxy(c, TypeNoVNC, hypervisor.ConsoleVNC)
}

func (s *Service) serialProxy(c echo.Context) error {
	return s.proxy(c, TypeSerial, hypervisor.ConsoleSerial)
}

// proxy checks the token, opens the guest's stream and relays it over a
// websocket. As Nova's websockify proxy, it upgrades first and then, for a
// bad token or a guest without the console, closes the connection without
// sending anything.
func (s *Service) proxy(c echo.Context, consoleType string, kind hypervisor.ConsoleKind) error {
	r := api.From(c)
	req := c.Request()
	log := r.Log.With("console", consoleType)

	var stream io.ReadWriteCloser
	rec, err := s.tokens.Validate(req.Context(), tokenOf(c))
	if err == nil && rec.ConsoleType != consoleType {
		err = ErrInvalidToken
	}
	if err == nil {
		log = log.With("instance_id", rec.InstanceID)
		stream, err = s.streams.OpenConsole(s.ctx, instance.Caller{RequestID: r.ID, Admin: true}, rec.InstanceID, kind)
	}
	ws, aerr := websocket.Accept(c.Response(), req, &websocket.AcceptOptions{
		Subprotocols:   []string{binaryProtocol},
		OriginPatterns: s.origins,
	})
	if aerr != nil {
		// Accept has answered (not a websocket request, or a foreign
		// origin).
		if stream != nil {
			stream.Close()
		}
		log.Info("console connection refused", "err", aerr)
		return nil
	}
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			log.Info("console refused: invalid token")
		} else {
			log.Warn("console unavailable", "err", err)
		}
		ws.CloseNow()
		return nil
	}
	if !s.begin() {
		stream.Close()
		ws.CloseNow()
		return nil
	}
	defer s.wg.Done()

	opts := relayOptions{typ: websocket.MessageBinary, budget: s.cfg.VNCBuffer, writeTimeout: s.cfg.WriteTimeout}
	if kind == hypervisor.ConsoleSerial {
		opts.budget, opts.lossy = s.cfg.SerialBuffer, true
		if ws.Subprotocol() != binaryProtocol {
			opts.typ = websocket.MessageText
		}
	}
	log.Info("console connected", "subprotocol", ws.Subprotocol())
	why := relay(s.ctx, ws, stream, opts)
	log.Info("console disconnected", "reason", why)
	return nil
}

// begin counts a relay in, unless the service is closing.
func (s *Service) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.wg.Add(1)
	return true
}

// tokenOf finds the token as Nova's proxy does: the "token" query
// parameter, else a "token" cookie (older noVNC pages send it so).
func tokenOf(c echo.Context) string {
	if t := c.QueryParam("token"); t != "" {
		return t
	}
	if ck, err := c.Cookie("token"); err == nil {
		return ck.Value
	}
	return ""
}

type relayOptions struct {
	// typ is the websocket message type sent to the client.
	typ websocket.MessageType
	// budget bounds the bytes queued for the client; lossy drops output
	// past it instead of disconnecting.
	budget       int
	lossy        bool
	writeTimeout time.Duration
}

// relay copies between the websocket and the guest stream until either
// ends or ctx does, and says why it ended. The guest side is read at its
// own pace whatever the client does: output waits in a bounded queue.
func relay(ctx context.Context, ws *websocket.Conn, stream io.ReadWriteCloser, o relayOptions) string {
	ws.SetReadLimit(clientReadLimit)
	// out ends the session. Reads and writes have contexts of their own:
	// the library drops the connection when the context of a read or
	// write in progress ends, which would lose the frame being written and
	// the close frame after it.
	out, stop := context.WithCancel(ctx)
	defer stop()
	in, stopReading := context.WithCancel(context.Background())
	defer stopReading()

	var (
		once   sync.Once
		code   = websocket.StatusNormalClosure
		reason string
	)
	finish := func(c websocket.StatusCode, why string) {
		once.Do(func() {
			if ctx.Err() != nil {
				// Whatever failed first, it failed because of this.
				c, why = websocket.StatusGoingAway, "server stopping"
			}
			code, reason = c, why
			stop()
		})
	}

	q := newQueue(o.budget)
	var wg sync.WaitGroup
	wg.Add(3)

	// Guest to queue.
	go func() {
		defer wg.Done()
		var text *textFrames
		if o.typ == websocket.MessageText {
			text = &textFrames{}
		}
		buf := make([]byte, readBuffer)
		for {
			n, err := stream.Read(buf)
			if n > 0 {
				p := append([]byte(nil), buf[:n]...)
				if text != nil {
					p = text.next(p)
				}
				if len(p) > 0 && !q.push(p) && !o.lossy {
					finish(websocket.StatusTryAgainLater, "client too slow")
					return
				}
			}
			if err != nil {
				if text != nil {
					if p := text.flush(); len(p) > 0 {
						q.push(p)
					}
				}
				// The writer sends what is queued, then ends the session.
				q.close()
				return
			}
		}
	}()

	// Queue to client.
	go func() {
		defer wg.Done()
		for {
			p, ok := q.pop(out)
			if !ok {
				finish(websocket.StatusNormalClosure, "console closed")
				return
			}
			// The reason is set when the client is too slow, before the
			// library's own deadline (a backstop here) drops the
			// connection: the reader would see that drop first and call
			// it the client's close.
			slow := time.AfterFunc(o.writeTimeout, func() { finish(websocket.StatusTryAgainLater, "client too slow") })
			wctx, cancel := context.WithTimeout(context.Background(), 2*o.writeTimeout)
			err := ws.Write(wctx, o.typ, p)
			cancel()
			slow.Stop()
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					finish(websocket.StatusTryAgainLater, "client too slow")
				} else {
					finish(websocket.StatusNormalClosure, "client gone")
				}
				return
			}
		}
	}()

	// Client to guest.
	go func() {
		defer wg.Done()
		for {
			_, p, err := ws.Read(in)
			if err != nil {
				finish(websocket.StatusNormalClosure, "client closed")
				return
			}
			if _, err := stream.Write(p); err != nil {
				finish(websocket.StatusNormalClosure, "console closed")
				return
			}
		}
	}()

	<-out.Done()
	finish(websocket.StatusGoingAway, "server stopping")
	// Closing the stream ends the guest-side reader; the close handshake
	// (bounded by the library's own timeouts) ends the client-side one.
	stream.Close()
	q.close()
	if code == websocket.StatusTryAgainLater {
		// A client that does not read would not read a close frame
		// either: waiting for its send buffer to drain only holds the
		// session longer.
		ws.CloseNow()
	} else {
		ws.Close(code, reason)
	}
	stopReading()
	wg.Wait()
	return reason
}
