package fake

import (
	"fmt"
	"strings"
	"time"
)

// Stages of the serial terminal: a getty's login and password prompts,
// then a shell.
const (
	stageLogin = iota
	stagePassword
	stageShell
)

const maxLine = 1024

// serialInput is the terminal's line discipline and session.
type serialInput struct {
	stage  int
	user   string
	line   []byte
	lastCR bool
	// esc is 1 after ESC, 2 inside a CSI sequence, whose bytes are dropped.
	esc int
}

// typeByte handles one byte typed on the serial console of a running
// guest: echo, line editing, and on Enter the getty or the shell; all its
// output goes to the console log. d.mu is held.
func (d *Driver) typeByte(g *guest, c byte) {
	in := &g.input
	if in.lastCR && c == '\n' {
		in.lastCR = false
		return
	}
	in.lastCR = c == '\r'
	switch {
	case in.esc == 1:
		in.esc = 0
		if c == '[' {
			in.esc = 2
		}
		return
	case in.esc == 2:
		if c >= 0x40 && c <= 0x7e {
			in.esc = 0
		}
		return
	}
	switch c {
	case 0x1b:
		in.esc = 1
	case '\r', '\n':
		line := string(in.line)
		in.line = in.line[:0]
		g.emit("\r\n")
		d.enter(g, line)
	case 0x7f, '\b':
		if len(in.line) > 0 {
			in.line = in.line[:len(in.line)-1]
			if in.stage != stagePassword {
				g.emit("\b \b")
			}
		}
	case 0x03: // ^C
		in.line = in.line[:0]
		g.emit("^C\r\n" + g.prompt())
	case 0x04: // ^D on an empty shell line logs out
		if in.stage == stageShell && len(in.line) == 0 {
			g.emit("logout\r\n")
			g.logout()
		}
	default:
		if c < 0x20 || len(in.line) >= maxLine {
			return
		}
		in.line = append(in.line, c)
		if in.stage != stagePassword {
			g.emit(string(c))
		}
	}
}

// prompt is what the terminal shows while waiting for a line.
func (g *guest) prompt() string {
	host := hostname(g.spec)
	switch g.input.stage {
	case stageLogin:
		return host + " login: "
	case stagePassword:
		return "Password: "
	}
	if g.input.user == "root" {
		return "root@" + host + ":~# "
	}
	return g.input.user + "@" + host + ":~$ "
}

func (g *guest) logout() {
	g.input = serialInput{}
	g.emit(fmt.Sprintf("\r\nDebian GNU/Linux 12 %s ttyS0\r\n\r\n%s", hostname(g.spec), g.prompt()))
}

// enter handles a completed line. The guest takes any password: it is a
// place to see a console work, not to test authentication.
func (d *Driver) enter(g *guest, line string) {
	in := &g.input
	switch in.stage {
	case stageLogin:
		if user := strings.TrimSpace(line); user != "" {
			in.user = user
			in.stage = stagePassword
		}
		g.emit(g.prompt())
		return
	case stagePassword:
		in.stage = stageShell
		g.emit(fmt.Sprintf("Linux %s 6.1.0-fake-amd64 #1 SMP PREEMPT_DYNAMIC x86_64\r\n\r\n%s", hostname(g.spec), g.prompt()))
		return
	}
	now := d.now()
	args := strings.Fields(line)
	out := ""
	if len(args) > 0 {
		switch args[0] {
		case "poweroff", "halt", "shutdown":
			d.guestPowerOff(g, now)
			return
		case "reboot":
			g.say(now, rebootLines...)
			g.boot(now)
			return
		case "exit", "logout":
			g.logout()
			return
		case "hostname":
			out = hostname(g.spec) + "\r\n"
		case "whoami":
			out = in.user + "\r\n"
		case "echo":
			out = strings.Join(args[1:], " ") + "\r\n"
		case "uname":
			out = "Linux\r\n"
			if len(args) > 1 && args[1] == "-a" {
				out = fmt.Sprintf("Linux %s 6.1.0-fake-amd64 #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\r\n", hostname(g.spec))
			}
		case "uptime":
			up := g.uptime(now)
			out = fmt.Sprintf(" %s up %d min,  1 user,  load average: 0.00, 0.00, 0.00\r\n",
				now.Format("15:04:05"), int(up/time.Minute))
		default:
			out = fmt.Sprintf("-bash: %s: command not found\r\n", args[0])
		}
	}
	g.emit(out + g.prompt())
}
