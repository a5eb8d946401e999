package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNewRunsScriptsAndSharesStorageAcrossTabs: a page's script runs, a
// second tab of the same browser sees the first one's localStorage (one
// agent's CRM tabs share a session), and a screenshot is written.
func TestNewRunsScriptsAndSharesStorageAcrossTabs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>t</title><p id="out"></p>
<script>document.getElementById("out").textContent = "ran " + (localStorage.getItem("k") || "first");
localStorage.setItem("k", "second");</script>`))
	}))
	defer srv.Close()
	ctx := New(t, Options{})
	got, err := text(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got != "ran first" {
		t.Fatalf("first tab says %q, want %q", got, "ran first")
	}
	tab := Tab(t, ctx, "tab 2")
	if got, err = text(tab, srv.URL); err != nil {
		t.Fatal(err)
	}
	if got != "ran second" {
		t.Fatalf("second tab says %q, want %q (storage not shared)", got, "ran second")
	}
	path := Screenshot(t, tab, "", "tab2")
	if b, err := os.ReadFile(path); err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Errorf("screenshot %s is not a PNG (%v)", path, err)
	}
	Eval[bool](t, tab, `setTimeout(function () { document.getElementById("out").textContent = "later"; }, 50); true`)
	Until(t, tab, "the text to change", `document.getElementById("out").textContent === "later"`)
	if n := Eval[int](t, tab, `Promise.resolve(6 * 7)`); n != 42 {
		t.Errorf("Eval of a promise = %d", n)
	}
}

// text opens url and returns the text of #out.
func text(ctx context.Context, url string) (string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#out")))
}
