package acd_test

import (
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/acd"
)

func Example() {
	e, err := acd.New(acd.Options{PriorityStep: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e.SetQueue("support", 0, []string{"en"})
	e.SetQueue("vip", 2, []string{"en", "vip"})
	e.SetAgent("alice", []string{"en", "vip"})
	e.SetAgent("bob", []string{"en"})

	// Nobody is available: both callers wait.
	e.Enqueue("call-1", "support", t0)
	e.Enqueue("call-2", "vip", t0.Add(15*time.Minute))

	// The VIP caller arrived 15 minutes later, but two priority points are
	// worth 20 minutes of waiting, so alice takes call-2 first.
	a, _, _ := e.AgentAvailable("alice", t0.Add(16*time.Minute))
	fmt.Println(a.AgentID, "takes", a.ItemID, "from", a.QueueID)

	// bob does not have the vip skill; he takes the support caller.
	a, _, _ = e.AgentAvailable("bob", t0.Add(17*time.Minute))
	fmt.Println(a.AgentID, "takes", a.ItemID, "from", a.QueueID)

	// A ring-no-answer: bob stays unavailable (the caller sets him not
	// ready) and call-1 is requeued with its original time. alice, free
	// again, gets it.
	e.Enqueue("call-1", "support", t0)
	a, _, _ = e.AgentAvailable("alice", t0.Add(18*time.Minute))
	fmt.Println(a.AgentID, "takes", a.ItemID, "from", a.QueueID)
	// Output:
	// alice takes call-2 from vip
	// bob takes call-1 from support
	// alice takes call-1 from support
}
