package loopback

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:9090", true},
		{"127.0.0.1", true},
		{"127.1.2.3:80", true},
		{"[::1]:8080", true},
		{"[::1]", true},
		{"localhost:9090", true},
		{"LOCALHOST", true},
		{"localhost.:9090", false},
		{"evil.example:9090", false},
		{"127.0.0.1.nip.io:9090", false},
		{"attacker.localhost.evil.example", false},
		{"10.0.0.5:9090", false},
		{"0.0.0.0:9090", false},
		{"[::]:9090", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			assert.Equal(t, tt.want, Host(tt.host))
		})
	}
}
