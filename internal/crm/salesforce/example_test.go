package salesforce_test

import (
	"fmt"

	"github.com/parley-cc/parley/internal/crm/salesforce"
)

func ExampleSOSL_Statement() {
	q := salesforce.SOSL{
		Terms:     []string{"+12015550123", "(201) 555-0123", `x"} RETURNING User(Id)`},
		In:        "PHONE",
		Returning: []salesforce.Returning{{Object: "Contact", Fields: []string{"Id", "Name"}}},
		Limit:     20,
	}
	stmt, err := q.Statement()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stmt)
	// Output:
	// FIND {"\+12015550123" OR "\(201\) 555\-0123" OR "x\"\} RETURNING User\(Id\)"} IN PHONE FIELDS RETURNING Contact(Id, Name) LIMIT 20
}

func ExampleQuoteSOQL() {
	fmt.Println("SELECT Id FROM Task WHERE CallObject = " + salesforce.QuoteSOQL(`int_1' OR Id != '`) + " LIMIT 1")
	// Output:
	// SELECT Id FROM Task WHERE CallObject = 'int_1\' OR Id != \'' LIMIT 1
}
