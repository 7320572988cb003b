//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// binary is the esrule binary of this package run: built once, by the
// first test that needs it (or started early by TestMain), into a directory
// TestMain removes at the end.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildBinary builds cmd/esrule once per package run, unless ESRULE_TEST_BIN
// names a binary to use.
func buildBinary() (string, error) {
	binary.once.Do(func() {
		if p := os.Getenv("ESRULE_TEST_BIN"); p != "" {
			binary.path = p
			return
		}
		dir, err := os.MkdirTemp("", "esrule-bin-")
		if err != nil {
			binary.err = fmt.Errorf("create the binary's directory: %w", err)
			return
		}
		binary.dir, binary.path = dir, filepath.Join(dir, "esrule")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/esrule/esrule/cmd/esrule").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	return binary.path, binary.err
}

// esruleBinary returns the esrule binary, building it on first use.
func esruleBinary(t testing.TB) string {
	t.Helper()
	p, err := buildBinary()
	require.NoError(t, err)
	return p
}

// removeBinary removes the built binary (TestMain, after the tests), once
// a build under way has ended.
func removeBinary() {
	_, _ = buildBinary()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
}

// syncBuffer is an output buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// lineWriter passes what it gets to w and every complete line to onLine.
type lineWriter struct {
	w       *syncBuffer
	onLine  func([]byte)
	partial []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.onLine(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	return n, err
}

// procSpec describes one esrule process of a test.
type procSpec struct {
	// args are the command line arguments (the subcommand first).
	args []string
	// env is added to the environment: the test process's own, or with
	// cleanEnv only PATH and HOME.
	env      []string
	cleanEnv bool
	// listen, for serve, makes the process listen on a free local address
	// (ESRULE_LISTEN), which waitReady and get use.
	listen bool
	// onLine, when set, is called with every line the process writes to
	// stderr, as it writes it.
	onLine func(line []byte)
}

// esruleProc is one running (or exited) esrule process. Cleanup kills it
// when the test ends, and logs its output when the test failed.
type esruleProc struct {
	name           string
	cmd            *exec.Cmd
	addr           string
	stdout, stderr *syncBuffer
	exited         chan struct{}
	err            error // the result of Wait, once exited is closed
}

// startEsrule starts the esrule binary as spec says; name labels it in
// failure messages.
func startEsrule(t *testing.T, name string, spec procSpec) *esruleProc {
	t.Helper()
	p := &esruleProc{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(esruleBinary(t), spec.args...)
	env := os.Environ()
	if spec.cleanEnv {
		env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	}
	if spec.listen {
		p.addr = freeAddr(t)
		env = append(env, "ESRULE_LISTEN="+p.addr)
	}
	p.cmd.Env = append(env, spec.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if spec.onLine != nil {
		p.cmd.Stderr = &lineWriter{w: p.stderr, onLine: spec.onLine}
	}
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.output())
		}
	})
	return p
}

// output returns what the process wrote: stderr (the log), then stdout.
func (p *esruleProc) output() string { return p.stderr.String() + p.stdout.String() }

// progress describes how far the process got for a wait: its output so far
// and its CPU time (a process that computes or writes is advancing).
func (p *esruleProc) progress() string {
	return fmt.Sprintf("%s: %d bytes of output, cpu %s", p.name, p.stdout.Len()+p.stderr.Len(), cpuTicks(p.cmd.Process.Pid))
}

// cpuTicks returns the user and system CPU ticks of a process from
// /proc/PID/stat ("" where there is no /proc).
func cpuTicks(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The fields after the command name (in parentheses): utime and stime
	// are the 12th and 13th.
	_, rest, ok := bytes.Cut(b, []byte(") "))
	if !ok {
		return ""
	}
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return ""
	}
	return f[11] + "+" + f[12]
}

// hasExited reports whether the process has exited.
func (p *esruleProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// wait waits until the process exits and returns its exit code; the wait
// lasts as long as the process makes progress (output or CPU time).
func (p *esruleProc) wait(t *testing.T) int {
	t.Helper()
	waitFor(t, p.name+" exits", func() (bool, string) { return p.hasExited(), p.progress() })
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, p.err, "%s: %s", p.name, p.output())
	return 0
}

// signal sends sig to the process.
func (p *esruleProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig), "signal %s to %s", sig, p.name)
}

// kill ends the process with SIGKILL and waits for it.
func (p *esruleProc) kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	<-p.exited
}

// waitReady waits until the serve process's /readyz answers 200 and checks
// /healthz; it fails at once when the process exits.
func (p *esruleProc) waitReady(t *testing.T) {
	t.Helper()
	require.NotEmpty(t, p.addr, "%s listens nowhere", p.name)
	waitFor(t, p.name+" ready", func() (bool, string) {
		if p.hasExited() {
			t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, p.output())
		}
		code, body := p.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("readyz %d %q; %s", code, body, p.progress())
	})
	code, _ := p.get("/healthz")
	require.Equal(t, http.StatusOK, code, "%s /healthz", p.name)
}

// get sends GET path to the serve process and returns status and body.
func (p *esruleProc) get(path string) (int, string) { return httpGet("http://" + p.addr + path) }

// waitOutput waits until the process's output contains s; it fails when
// the process exits without writing it.
func (p *esruleProc) waitOutput(t *testing.T, s string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s writes %q", p.name, s), func() (bool, string) {
		if strings.Contains(p.output(), s) {
			return true, ""
		}
		if p.hasExited() {
			t.Fatalf("%s exited (%v) without writing %q:\n%s", p.name, p.err, s, p.output())
		}
		return false, p.progress()
	})
}

// runEsruleSpec runs the binary to its end and returns its exit code and
// output.
func runEsruleSpec(t *testing.T, name string, spec procSpec) cliRun {
	t.Helper()
	p := startEsrule(t, name, spec)
	code := p.wait(t)
	return cliRun{code: code, stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// freeAddr returns a local address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
