package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "correct horse") {
		t.Fatalf("unexpected hash form %q", h)
	}
	if !VerifyPassword(h, "correct horse") {
		t.Error("right password rejected")
	}
	for _, bad := range []string{"", "correct hors", "Correct horse", "correct horse "} {
		if VerifyPassword(h, bad) {
			t.Errorf("wrong password %q accepted", bad)
		}
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
	for _, broken := range []string{"", "$argon2id$", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdA$a2V5", "$argon2id$v=19$m=0,t=3,p=2$c2FsdA$a2V5", h[:len(h)-3] + "!!!"} {
		if VerifyPassword(broken, "correct horse") {
			t.Errorf("malformed hash %q verified", broken)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "longenough": true, strings.Repeat("x", 1025): false, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8": false} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestSIPHA1(t *testing.T) {
	// RFC 2617 section 3.5 example: Mufasa:testrealm@host.com:Circle Of Life.
	if got := SIPHA1("Mufasa", "testrealm@host.com", "Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Errorf("SIPHA1 = %s", got)
	}
}

func TestToken(t *testing.T) {
	tok, h := NewToken()
	if !strings.HasPrefix(tok, "prl_") || len(tok) < 40 || HashToken(tok) != h || strings.Contains(h, tok) {
		t.Errorf("token %q hash %q", tok, h)
	}
	if tok2, _ := NewToken(); tok2 == tok {
		t.Error("tokens repeat")
	}
	if p := GeneratePassword(16); len(p) != 16 || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("GeneratePassword = %q", p)
	}
}
