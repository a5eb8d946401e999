package view_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// names is a view.Names of one queue.
type names map[string]string

func (n names) QueueName(id string) string { return n[id] }
func (n names) AgentName(id string) string { return n[id] }

// A queued call as a REST response and an interaction.queued payload both
// show it.
func ExampleNewInteraction() {
	t0 := time.Date(2025, 3, 4, 15, 20, 0, 0, time.UTC)
	it := &cc.Interaction{
		ID: "int_1", Channel: cc.ChannelPhone, Direction: cc.Inbound, State: cc.InteractionQueued,
		Customer:     cc.Customer{Number: "+12015550123", Raw: "2015550123"},
		EntryPointID: "ent_main", QueueID: "que_sales", CreatedAt: t0, QueuedAt: t0,
	}
	b, _ := json.MarshalIndent(view.InteractionEvent{Interaction: view.NewInteraction(it, "US", names{"que_sales": "Sales"})}, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "interaction": {
	//     "id": "int_1",
	//     "channel": "phone",
	//     "direction": "inbound",
	//     "state": "queued",
	//     "customer": {
	//       "number": "+12015550123",
	//       "display": "(201) 555-0123",
	//       "withheld": false
	//     },
	//     "entry_point_id": "ent_main",
	//     "queue_id": "que_sales",
	//     "queue_name": "Sales",
	//     "created_at": "2025-03-04T15:20:00Z",
	//     "queued_at": "2025-03-04T15:20:00Z",
	//     "offers": 0,
	//     "held": false,
	//     "muted": false,
	//     "wait_seconds": 0,
	//     "talk_seconds": 0,
	//     "wrap_seconds": 0,
	//     "matches": [],
	//     "log": {
	//       "status": "none"
	//     }
	//   }
	// }
}
