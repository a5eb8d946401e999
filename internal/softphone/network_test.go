package softphone_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"

	"github.com/parley-cc/parley/internal/softphone"
	"github.com/parley-cc/parley/internal/testkit/rtcclient"
)

// TestNetworkBlip: on a virtual network whose router can drop every
// packet, a blip after which ICE recovers within 3 s keeps the leg; an
// outage that lasts ends it ("network connection was lost").
func TestNetworkBlip(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 15 s")
	}
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.9.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	var drop atomic.Bool
	router.AddChunkFilter(func(vnet.Chunk) bool { return !drop.Load() })
	server, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.9.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	browser, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.9.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*vnet.Net{server, browser} {
		if err := router.AddNet(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = router.Stop() }()

	h, err := softphone.NewWithNet(softphone.Config{}, server)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c, err := rtcclient.New(rtcclient.Options{ToneHz: 440, Net: browser})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	offer, err := c.Offer()
	if err != nil {
		t.Fatal(err)
	}
	k := softphone.Key{TenantID: "acme", UserID: "u1"}
	answer, err := h.Offer(ctx, k, "socket-1", offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(answer); err != nil {
		t.Fatal(err)
	}
	if err := c.Connected(ctx); err != nil {
		t.Fatal(err)
	}
	l := wait(t, h, k)

	// 3.5 s without packets: ICE reports disconnected after 2 s and
	// recovers 1.5 s later, within the 3 s the leg waits.
	drop.Store(true)
	time.Sleep(3500 * time.Millisecond)
	drop.Store(false)
	before := l.Stats().PacketsIn
	eventually(t, "audio after the blip", func() bool { return l.Stats().PacketsIn > before+25 })
	select {
	case <-l.Done():
		t.Fatalf("a 3.5 s blip ended the leg: %s", l.Reason())
	default:
	}

	// A lasting outage ends it.
	drop.Store(true)
	select {
	case <-l.Done():
	case <-time.After(within):
		t.Fatal("the leg outlived a lasting outage")
	}
	if !strings.Contains(l.Reason(), "network connection was lost") {
		t.Errorf("reason %q", l.Reason())
	}
}
