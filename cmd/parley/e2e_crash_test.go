package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/devcrm"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// TestKilledWithPendingLogDeliversOnce kills a real `parley serve` process
// (SIGKILL) while its CRM log write is in flight, starts it again on the
// same data, and checks that the log lands exactly once.
//
// The CRM is devcrm behind a proxy in the test that holds the Task create:
// "before the CRM" holds it before devcrm sees it (the kill loses the
// request: the retry must create the Task); "after the CRM" lets devcrm
// create the Task and holds the answer (the kill loses the answer: Parley
// recorded nothing, the CRM has the Task, and the retry must find and
// update it, not create a second one). The second is the case that proves
// exactly once.
func TestKilledWithPendingLogDeliversOnce(t *testing.T) {
	skipIfShort(t)
	sippeer.RequireTool(t, sippeer.ToolSIPp)
	bin := buildParley(t)
	for _, tc := range []struct {
		name        string
		afterCreate bool
	}{{"before the CRM", false}, {"after the CRM", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			hold := &taskHold{afterCreate: tc.afterCreate, held: make(chan heldTask, 1), release: make(chan struct{})}
			crm := startHeldCRM(t, dir, hold)
			e := &testEnv{t: t, ctx: ctx, dir: dir, crm: crm, logs: &syncBuffer{}}
			cfg := seedChild(t, e)

			p := startChild(t, bin, cfg, e)
			res := sippeer.RunSIPp(t, sippeer.SIPpRun{Scenario: sippeer.ScenarioCall, Target: p.sipAddr, Service: "+15550100",
				Keys: map[string]string{"talk_ms": "2000", "from_user": "2015550123"}})
			if !res.OK() {
				t.Fatalf("caller: %s", res)
			}
			var task heldTask
			select {
			case task = <-hold.held:
			case <-time.After(60 * time.Second):
				t.Fatalf("no Task create reached the CRM within 60s of the abandoned call")
			}
			p.kill(t)
			t.Logf("killed parley serve while the Task create of %s was held (devcrm answered %d)", task.callObject, task.status)
			wantTasks := 0
			if tc.afterCreate {
				wantTasks = 1
				if task.status != http.StatusCreated {
					t.Fatalf("devcrm answered the held Task create with %d, want 201", task.status)
				}
			}
			if n := len(e.tasksFor(task.callObject)); n != wantTasks {
				t.Fatalf("after the kill the CRM has %d Tasks for %s, want %d", n, task.callObject, wantTasks)
			}
			if st := storedLogStatus(t, dir, task.callObject); st != cc.LogPending {
				t.Fatalf("after the kill Parley's database says the log is %q, want pending", st)
			}
			hold.unblock()

			startChild(t, bin, cfg, e)
			t.Logf("parley serve started again")
			sam := e.signIn("sam")
			e.waitDelivered(sam, task.callObject, 60*time.Second)
			if it := e.interaction(sam, task.callObject); it.Outcome != "abandoned" {
				t.Errorf("interaction %+v, want abandoned", it)
			}
		})
	}
}

// buildParley builds the parley binary into a temp directory.
func buildParley(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goBin = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("the go command is not on PATH: it is needed to build parley for the crash test")
		}
	}
	bin := filepath.Join(t.TempDir(), "parley")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// heldTask is what the proxy learnt about the Task create it held.
type heldTask struct {
	callObject string
	status     int // devcrm's answer when it was let through, else 0
}

// taskHold is a proxy in front of devcrm that holds the first Task create
// until unblock: before devcrm sees it, or after devcrm created the Task
// (afterCreate), keeping the answer from the client.
type taskHold struct {
	afterCreate bool
	next        http.Handler
	held        chan heldTask
	release     chan struct{}
	once        sync.Once
	mu          sync.Mutex
	used        bool
}

func (h *taskHold) unblock() { h.once.Do(func() { close(h.release) }) }

// take reports whether r is the first Task create.
func (h *taskHold) take(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/sobjects/Task") {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	first := !h.used
	h.used = true
	return first
}

func (h *taskHold) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.take(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var fields struct{ CallObject string }
	if err := json.Unmarshal(body, &fields); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	held := heldTask{callObject: fields.CallObject}
	var rec *httptest.ResponseRecorder
	if h.afterCreate {
		// devcrm serves it to the end even if the client goes away.
		rec = httptest.NewRecorder()
		r2 := r.Clone(context.WithoutCancel(r.Context()))
		r2.Body = io.NopCloser(bytes.NewReader(body))
		h.next.ServeHTTP(rec, r2)
		held.status = rec.Code
	}
	h.held <- held
	<-h.release
	if rec == nil {
		// The request never reached the CRM.
		http.Error(w, "held by the test", http.StatusServiceUnavailable)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// startHeldCRM starts devcrm with its public URL on a proxy that holds the
// first Task create.
func startHeldCRM(t *testing.T, dir string, hold *taskHold) *devcrm.Server {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	crm, err := devcrm.New(devcrm.Config{Addr: "127.0.0.1:0", PublicURL: "http://" + ln.Addr().String(), DBPath: filepath.Join(dir, "devcrm.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := crm.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hold.next = crm.Handler()
	srv := &http.Server{Handler: hold, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		hold.unblock()
		srv.Close()
		crm.Close()
	})
	return crm
}

// seedChild seeds the demo tenant into e.dir for a child process and writes
// its configuration file.
func seedChild(t *testing.T, e *testEnv) string {
	t.Helper()
	cfg := filepath.Join(e.dir, "parley.yaml")
	// Any RTP port: the default range would cross the test kit's ports.
	if err := os.WriteFile(cfg, []byte("sip:\n  rtp_ports: \"\"\nlog:\n  level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewMain()
	if err := m.configure(cfg, e.dir, "", ""); err != nil {
		t.Fatal(err)
	}
	info, err := seedDemo(e.ctx, m, e.crm)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := writeDemoFile(filepath.Join(e.dir, "demo.json"), info); err != nil {
		t.Fatal(err)
	}
	e.info = info
	return cfg
}

// child is a `parley serve` process.
type child struct {
	cmd     *exec.Cmd
	done    chan struct{}
	sipAddr string
}

// startChild runs `parley serve` on e.dir with fresh ports, waits until it
// is ready and points e's API calls at it. The process is killed when the
// test ends, and its log shown if the test failed.
func startChild(t *testing.T, bin, cfg string, e *testEnv) *child {
	t.Helper()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	p := &child{sipAddr: fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t)), done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", cfg, "--data", e.dir, "--http", httpAddr, "--sip", p.sipAddr)
	p.cmd.Stdout, p.cmd.Stderr = e.logs, e.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start parley serve: %v", err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("parley serve log:\n%s", tail(e.logs.String(), 150))
		}
	})
	e.http = "http://" + httpAddr
	eventually(t, 60*time.Second, "parley serve to be ready", func() bool {
		select {
		case <-p.done:
			t.Fatalf("parley serve exited: %v\n%s", p.cmd.ProcessState, tail(e.logs.String(), 40))
		default:
		}
		res, err := http.Get(e.http + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return p
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *child) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill parley serve: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("parley serve (pid %d) did not die within 30s of SIGKILL", p.cmd.Process.Pid)
	}
}

// storedLogStatus reads an interaction's log status from the database of a
// stopped Parley.
func storedLogStatus(t *testing.T, dir, id string) cc.LogStatus {
	t.Helper()
	ctx := context.Background()
	m := NewMain()
	if err := m.configure("", dir, "", ""); err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.Load(m.Config.KeyFilePath(), false)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, m.Config.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ten, err := store.TenantBySlug(ctx, demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	it, err := store.Interaction(ctx, ten.ID, id)
	if err != nil {
		t.Fatalf("interaction %s: %v", id, err)
	}
	return it.LogStatus
}
