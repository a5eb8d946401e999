package softphone

import "github.com/pion/transport/v4"

// NewWithNet is New on a virtual network, for the network tests.
func NewWithNet(cfg Config, n transport.Net) (*Hub, error) { return newHub(cfg, n) }

// ValidateOffer is the offer check, for the fuzz test.
var ValidateOffer = validateOffer
