package phone_test

import (
	"fmt"

	"github.com/parley-cc/parley/internal/phone"
)

func ExampleParse() {
	n, err := phone.Parse("(201) 555-0123 x12", "US")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.E164, n.Extension)
	fmt.Println(phone.Format(n, "US"))
	fmt.Println(phone.Format(n, "GB"))
	// Output:
	// +12015550123 12
	// (201) 555-0123 ext. 12
	// +1 201-555-0123 ext. 12
}

func ExampleNormalizeDialed() {
	e164, err := phone.NormalizeDialed("sip:15550100@192.0.2.10;user=phone", "US")
	fmt.Println(e164, err)
	// Output: +15550100 <nil>
}

func ExampleSearchVariants() {
	for _, v := range phone.SearchVariants("+49305550123") {
		fmt.Println(v)
	}
	// Output:
	// +49305550123
	// 49305550123
	// +49 30 5550123
	// 030 5550123
	// 030-5550123
	// 030.5550123
	// 305550123
	// 0305550123
}
