package inmem

import (
	"sync"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestFanOutPerTenant(t *testing.T) {
	b := New(4)
	a1, cancelA1 := b.Subscribe("a")
	a2, _ := b.Subscribe("a")
	other, _ := b.Subscribe("b")
	b.Publish(&cc.Event{TenantID: "a", Seq: 1})
	for _, ch := range []<-chan *cc.Event{a1, a2} {
		if e := <-ch; e.Seq != 1 {
			t.Fatalf("got seq %d", e.Seq)
		}
	}
	select {
	case e := <-other:
		t.Fatalf("tenant b received tenant a's event %v", e)
	default:
	}
	cancelA1()
	cancelA1() // idempotent
	if _, ok := <-a1; ok {
		t.Fatal("cancelled channel still open")
	}
	if n := b.Subscribers(); n != 2 {
		t.Fatalf("Subscribers = %d, want 2", n)
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	b := New(2)
	slow, cancel := b.Subscribe("a")
	defer cancel()
	fast, _ := b.Subscribe("a")
	for i := 1; i <= 10; i++ {
		b.Publish(&cc.Event{TenantID: "a", Seq: int64(i)})
		if e, ok := <-fast; !ok || e.Seq != int64(i) {
			t.Fatalf("fast subscriber: got %v, %v at %d", e, ok, i)
		}
	}
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("slow subscriber got %d events before being dropped, want its buffer (2)", n)
	}
	b.Close()
}

func TestConcurrentPublish(t *testing.T) {
	b := New(10000)
	ch, cancel := b.Subscribe("t")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				b.Publish(&cc.Event{TenantID: "t"})
			}
		}()
	}
	wg.Wait()
	cancel()
	n := 0
	for range ch {
		n++
	}
	if n != 4000 {
		t.Fatalf("received %d of 4000", n)
	}
	b.Close()
	late, _ := b.Subscribe("t")
	if _, ok := <-late; ok {
		t.Fatal("subscription after Close is open")
	}
}

// TestFilteredSubscriberBuffersOnlyWhatItKeeps: a burst of events the
// subscriber does not keep neither reaches it nor fills its buffer.
func TestFilteredSubscriberBuffersOnlyWhatItKeeps(t *testing.T) {
	b := New(2)
	defer b.Close()
	mine, cancel := b.SubscribeFunc("a", func(e *cc.Event) bool { return e.UserID == "u1" })
	defer cancel()
	for i := 1; i <= 100; i++ {
		b.Publish(&cc.Event{TenantID: "a", Seq: int64(i), UserID: "u2"})
	}
	b.Publish(&cc.Event{TenantID: "a", Seq: 101, UserID: "u1"})
	if e, ok := <-mine; !ok || e.Seq != 101 {
		t.Fatalf("filtered subscriber: got %v, %v; want only seq 101 (and still subscribed)", e, ok)
	}
	b.Publish(&cc.Event{TenantID: "a", Seq: 102, UserID: "u1"})
	b.Publish(&cc.Event{TenantID: "a", Seq: 103, UserID: "u1"})
	b.Publish(&cc.Event{TenantID: "a", Seq: 104, UserID: "u1"}) // over its buffer of 2
	n := 0
	for range mine {
		n++
	}
	if n != 2 {
		t.Fatalf("got %d kept events before the drop, want its buffer (2)", n)
	}
}
