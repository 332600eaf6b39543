package fake

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"minicloud/hypervisor"
)

// The guest's display: small, one colour per power state.
const (
	fbWidth  = 320
	fbHeight = 240
)

// colour of the display in a power state: a dark blue console while
// running, grey while paused, black for a crashed guest.
func colour(s hypervisor.PowerState) [3]byte {
	switch s {
	case running:
		return [3]byte{0x1c, 0x3d, 0x6e}
	case paused:
		return [3]byte{0x80, 0x80, 0x80}
	}
	return [3]byte{0, 0, 0}
}

// pixelFormat is RFB's PIXEL_FORMAT.
type pixelFormat struct {
	bpp, depth              uint8
	bigEndian, trueColour   bool
	redMax, greenMax, blMax uint16
	redShift, greenShift    uint8
	blueShift               uint8
}

// serverPixelFormat is 32-bit little-endian true colour, xRGB.
var serverPixelFormat = pixelFormat{
	bpp: 32, depth: 24, trueColour: true,
	redMax: 255, greenMax: 255, blMax: 255,
	redShift: 16, greenShift: 8, blueShift: 0,
}

func (pf pixelFormat) bytes() []byte {
	b := make([]byte, 16)
	b[0], b[1] = pf.bpp, pf.depth
	if pf.bigEndian {
		b[2] = 1
	}
	if pf.trueColour {
		b[3] = 1
	}
	binary.BigEndian.PutUint16(b[4:], pf.redMax)
	binary.BigEndian.PutUint16(b[6:], pf.greenMax)
	binary.BigEndian.PutUint16(b[8:], pf.blMax)
	b[10], b[11], b[12] = pf.redShift, pf.greenShift, pf.blueShift
	return b
}

func parsePixelFormat(b []byte) (pixelFormat, error) {
	pf := pixelFormat{
		bpp: b[0], depth: b[1], bigEndian: b[2] != 0, trueColour: b[3] != 0,
		redMax:   binary.BigEndian.Uint16(b[4:]),
		greenMax: binary.BigEndian.Uint16(b[6:]),
		blMax:    binary.BigEndian.Uint16(b[8:]),
		redShift: b[10], greenShift: b[11], blueShift: b[12],
	}
	if pf.bpp != 8 && pf.bpp != 16 && pf.bpp != 32 {
		return pf, fmt.Errorf("rfb: %d bits per pixel", pf.bpp)
	}
	return pf, nil
}

// pixel encodes an RGB colour in pf. Colour-map formats get index 0: the
// server sends no colour map, and one colour needs no more.
func (pf pixelFormat) pixel(c [3]byte) []byte {
	var v uint32
	if pf.trueColour {
		scale := func(x byte, m uint16) uint32 { return uint32(x) * uint32(m) / 255 }
		v = scale(c[0], pf.redMax)<<pf.redShift | scale(c[1], pf.greenMax)<<pf.greenShift | scale(c[2], pf.blMax)<<pf.blueShift
	}
	b := make([]byte, pf.bpp/8)
	switch {
	case pf.bpp == 8:
		b[0] = byte(v)
	case pf.bpp == 16 && pf.bigEndian:
		binary.BigEndian.PutUint16(b, uint16(v))
	case pf.bpp == 16:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case pf.bigEndian:
		binary.BigEndian.PutUint32(b, v)
	default:
		binary.LittleEndian.PutUint32(b, v)
	}
	return b
}

// rect is a FramebufferUpdateRequest's area.
type rect struct{ x, y, w, h uint16 }

// rfbSession is the server side of one VNC connection: a minimal RFB 3.8
// server (3.3 and 3.7 clients too) with security type None, answering
// update requests with raw-encoded solid colour.
type rfbSession struct {
	d    *Driver
	g    *guest
	w    *watcher
	conn net.Conn
	name string

	mu sync.Mutex // guards the fields below and serialises writes
	pf pixelFormat
	// shown: the colour the client has; pending: an incremental request
	// waiting for a change.
	shown   *[3]byte
	pending *rect
}

// serve runs the handshake and the client message loop; a protocol error
// or a closed stream ends the session.
func (s *rfbSession) serve() {
	defer s.d.wg.Done()
	defer s.d.detach(s.g, s.w)
	if err := s.handshake(); err != nil {
		return
	}
	for {
		if err := s.message(); err != nil {
			return
		}
	}
}

// watch answers a held incremental request when the display changes.
func (s *rfbSession) watch() {
	defer s.d.wg.Done()
	for {
		select {
		case <-s.w.pokes:
			// The colour is read under the session's lock, as message
			// does: read before it, a change and its poke could fall
			// between the read and a request being held, and be lost.
			s.mu.Lock()
			c := s.colour()
			if s.pending != nil && (s.shown == nil || *s.shown != c) {
				r := *s.pending
				s.pending = nil
				s.update(r, c)
			}
			s.mu.Unlock()
		case <-s.w.gone:
			return
		}
	}
}

func (s *rfbSession) colour() [3]byte {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return colour(s.g.state)
}

// write sends one whole RFB message in one write.
func (s *rfbSession) write(p []byte) error {
	_, err := s.conn.Write(p)
	return err
}

func (s *rfbSession) read(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(s.conn, b)
	return b, err
}

var errRFBVersion = errors.New("rfb: bad protocol version")

// handshake: ProtocolVersion, security (None), ClientInit, ServerInit.
func (s *rfbSession) handshake() error {
	if err := s.write([]byte("RFB 003.008\n")); err != nil {
		return err
	}
	v, err := s.read(12)
	if err != nil {
		return err
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(v), "RFB %03d.%03d\n", &major, &minor); err != nil || major < 3 {
		return errRFBVersion
	}
	// A newer client talks 3.8; 3.4 to 3.6 (and odd minors) are 3.3.
	if major > 3 || minor > 8 {
		minor = 8
	} else if minor != 7 && minor != 8 {
		minor = 3
	}
	if minor == 3 {
		// 3.3: the server decides, in one word, with no result after None.
		if err := s.write([]byte{0, 0, 0, 1}); err != nil {
			return err
		}
	} else {
		if err := s.write([]byte{1, 1}); err != nil {
			return err
		}
		t, err := s.read(1)
		if err != nil {
			return err
		}
		if t[0] != 1 {
			if minor == 8 {
				reason := "security type not supported"
				msg := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 1}, uint32(len(reason)))
				s.write(append(msg, reason...))
			}
			return fmt.Errorf("rfb: security type %d", t[0])
		}
		// 3.7 sends no SecurityResult for None; 3.8 does.
		if minor == 8 {
			if err := s.write([]byte{0, 0, 0, 0}); err != nil {
				return err
			}
		}
	}
	if _, err := s.read(1); err != nil { // ClientInit: shared flag
		return err
	}
	msg := binary.BigEndian.AppendUint16(nil, fbWidth)
	msg = binary.BigEndian.AppendUint16(msg, fbHeight)
	msg = append(msg, serverPixelFormat.bytes()...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(s.name)))
	msg = append(msg, s.name...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pf = serverPixelFormat
	return s.write(msg)
}

// message reads and answers one client message.
func (s *rfbSession) message() error {
	t, err := s.read(1)
	if err != nil {
		return err
	}
	switch t[0] {
	case 0: // SetPixelFormat
		b, err := s.read(19)
		if err != nil {
			return err
		}
		pf, err := parsePixelFormat(b[3:])
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.pf = pf
		s.shown = nil // the client must be sent pixels in the new format
		s.mu.Unlock()
	case 2: // SetEncodings: raw is always allowed, so the list is moot
		b, err := s.read(3)
		if err != nil {
			return err
		}
		if _, err := s.read(4 * int(binary.BigEndian.Uint16(b[1:]))); err != nil {
			return err
		}
	case 3: // FramebufferUpdateRequest
		b, err := s.read(9)
		if err != nil {
			return err
		}
		r, ok := clip(rect{
			x: binary.BigEndian.Uint16(b[1:]), y: binary.BigEndian.Uint16(b[3:]),
			w: binary.BigEndian.Uint16(b[5:]), h: binary.BigEndian.Uint16(b[7:]),
		})
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.colour()
		if b[0] != 0 && s.shown != nil && *s.shown == c {
			// Nothing changed: hold the request until something does,
			// as servers do, rather than spin the client.
			s.pending = &r
			return nil
		}
		s.pending = nil
		if !ok {
			return s.write([]byte{0, 0, 0, 0}) // an update with no rectangles
		}
		return s.update(r, c)
	case 4: // KeyEvent
		_, err = s.read(7)
	case 5: // PointerEvent
		_, err = s.read(5)
	case 6: // ClientCutText
		b, err := s.read(7)
		if err != nil {
			return err
		}
		_, err = io.CopyN(io.Discard, s.conn, int64(binary.BigEndian.Uint32(b[3:])))
		return err
	default:
		return fmt.Errorf("rfb: unknown client message %d", t[0])
	}
	return err
}

// clip bounds r to the framebuffer; ok is false when nothing is left.
func clip(r rect) (rect, bool) {
	if r.x >= fbWidth || r.y >= fbHeight || r.w == 0 || r.h == 0 {
		return rect{}, false
	}
	r.w = min(r.w, fbWidth-r.x)
	r.h = min(r.h, fbHeight-r.y)
	return r, true
}

// update sends a FramebufferUpdate of r in colour c, raw-encoded;
// s.mu is held.
func (s *rfbSession) update(r rect, c [3]byte) error {
	px := s.pf.pixel(c)
	n := int(r.w) * int(r.h)
	msg := make([]byte, 0, 16+n*len(px))
	msg = append(msg, 0, 0)
	msg = binary.BigEndian.AppendUint16(msg, 1)
	msg = binary.BigEndian.AppendUint16(msg, r.x)
	msg = binary.BigEndian.AppendUint16(msg, r.y)
	msg = binary.BigEndian.AppendUint16(msg, r.w)
	msg = binary.BigEndian.AppendUint16(msg, r.h)
	msg = binary.BigEndian.AppendUint32(msg, 0) // raw encoding
	for range n {
		msg = append(msg, px...)
	}
	if err := s.write(msg); err != nil {
		return err
	}
	s.shown = &c
	return nil
}
