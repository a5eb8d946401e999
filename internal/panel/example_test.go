package panel_test

import (
	"fmt"
	"net/url"

	"github.com/parley-cc/parley/internal/panel"
)

// The query string a Lightning org appends to the CTI adapter URL, and a
// launcher parameter that is wrong.
func ExampleParseLaunch() {
	q, _ := url.ParseQuery("sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com&mode=Lightning&nonce=5f2e&isdtp=vw&vccmode=1")
	l, err := panel.ParseLaunch(q)
	fmt.Println(l.API, l.ScriptURL(), err)

	q.Set("vccmode", "7")
	_, err = panel.ParseLaunch(q)
	fmt.Println(err)
	// Output:
	// lightning https://acme.lightning.force.com/support/api/62.0/lightning/opencti_min.js <nil>
	// vccmode=7: use 1, 2 or 3
}
