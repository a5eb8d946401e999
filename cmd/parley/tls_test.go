package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: --tls-cert/--tls-key serve the API over HTTPS; a key that
// does not belong to the certificate is refused with both file names.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir)
	sip := fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t))
	m := NewMain()
	if err := m.ParseFlags([]string{"--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0", "--sip", sip,
		"--tls-cert", certFile, "--tls-key", keyFile}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	m.Config.SIP.RTPPorts = ""
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.HasPrefix(m.HTTPURL(), "https://") {
		t.Fatalf("URL %s, want https", m.HTTPURL())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	res, err := c.Get(m.HTTPURL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz over https: %d", res.StatusCode)
	}

	other, _, _ := writeCert(t, t.TempDir())
	m2 := NewMain()
	if err := m2.ParseFlags([]string{"--data", filepath.Join(dir, "data2"), "--http", "127.0.0.1:0", "--sip", fmt.Sprintf("127.0.0.1:%d", sippeer.FreePort(t)),
		"--tls-cert", other, "--tls-key", keyFile}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	err = m2.Run(context.Background())
	if err == nil {
		m2.Close()
		t.Fatal("a key of another certificate was accepted")
	}
	if !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), keyFile) || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("error %q does not name the files and what to give", err)
	}
	if err := NewMain().ParseFlags([]string{"--tls-cert", certFile}, os.Stderr); err == nil || !strings.Contains(err.Error(), "give both") {
		t.Fatalf("a certificate without its key: %v", err)
	}
}

// TestCheckConfigTLSAndICE: check-config loads the certificate as serve
// would, hides the TURN credential and says where public_url comes from.
func TestCheckConfigTLSAndICE(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir)
	cfg := filepath.Join(dir, "parley.yaml")
	body := fmt.Sprintf("http:\n  tls_cert: %s\n  tls_key: %s\nwebrtc:\n  ice_servers: turn:turn.example.org:3478\n  ice_username: u\n  ice_credential: s3cret-turn\n", certFile, keyFile)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "check-config", "--config", cfg)
	if code != 0 {
		t.Fatalf("check-config: %d %s%s", code, out, errOut)
	}
	if strings.Contains(out, "s3cret-turn") || !strings.Contains(out, "ice_credential: \"\" # set, not printed") {
		t.Errorf("the TURN credential is not hidden:\n%s", out)
	}
	if !strings.Contains(out, "public_url: https://127.0.0.1:8080 # https:// (http.tls_cert is set)") {
		t.Errorf("public_url is not https with its origin:\n%s", out)
	}
	body = strings.Replace(body, certFile, filepath.Join(dir, "nope.pem"), 1)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "check-config", "--config", cfg); code != 1 || !strings.Contains(errOut, "nope.pem") {
		t.Errorf("a missing certificate: %d %s", code, errOut)
	}
}
