package loadbench

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    func(*Options)
		wantErr string
	}{
		{name: "defaults", args: nil, want: func(*Options) {}},
		{
			name: "every flag",
			args: []string{"-bin", "/tmp/b", "-duration", "3s", "-warmup", "0s", "-sessions", "8, 1,4", "-idle", "",
				"-targets", "exchange,basic", "-rounds", "3", "-o", "r.md", "-perf", "p", "-v"},
			want: func(o *Options) {
				o.Bin, o.Duration, o.Warmup = "/tmp/b", 3*time.Second, 0
				o.Sessions, o.Idle = []int{1, 4, 8}, nil
				o.Targets = []Target{Bare, Basic, Exchange} // bare added, report order
				o.Rounds, o.Out, o.Perf, o.Verbose = 3, "r.md", "p", true
			},
		},
		{name: "server environment", args: []string{"-server-env", "GOMEMLIMIT=48MiB", "-server-env", "GOGC=200"},
			want: func(o *Options) { o.ServerEnv = []string{"GOMEMLIMIT=48MiB", "GOGC=200"} }},
		{name: "server environment without =", args: []string{"-server-env", "GOGC"}, wantErr: `invalid value "GOGC" for flag -server-env: "GOGC" is not KEY=VALUE`},
		{name: "duplicate targets collapse", args: []string{"-targets", "dev-exchange,bare,dev-exchange"},
			want: func(o *Options) { o.Targets = []Target{Bare, DevExchange} }},
		{name: "unknown target", args: []string{"-targets", "turbo"}, wantErr: `-targets: unknown target "turbo" (want bare,basic,passthrough,exchange,dev-basic,dev-passthrough,dev-exchange)`},
		{name: "no target", args: []string{"-targets", " , "}, wantErr: "-targets: at least one target is required"},
		{name: "zero sessions", args: []string{"-sessions", "0"}, wantErr: `-sessions: "0" is not a positive count`},
		{name: "no sessions", args: []string{"-sessions", ""}, wantErr: "-sessions: at least one count is required"},
		{name: "duplicate idle count", args: []string{"-idle", "10,10"}, wantErr: "-idle: 10 is listed twice"},
		{name: "bad duration", args: []string{"-duration", "0s"}, wantErr: "-duration must be positive"},
		{name: "negative warm-up", args: []string{"-warmup", "-1s"}, wantErr: "-warmup must not be negative"},
		{name: "no rounds", args: []string{"-rounds", "0"}, wantErr: "-rounds must be at least 1"},
		{name: "empty bin", args: []string{"-bin", ""}, wantErr: "-bin is required"},
		{name: "stray argument", args: []string{"extra"}, wantErr: `unexpected arguments ["extra"]`},
		{name: "every problem at once", args: []string{"-rounds", "0", "-duration", "0s"}, wantErr: "-duration must be positive\n-rounds must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			want := DefaultOptions()
			tc.want(&want)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	_, err := ParseArgs([]string{"-h"}, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestTarget(t *testing.T) {
	tests := []struct {
		target      Target
		mode, label string
		dev, oauth  bool
	}{
		{Bare, "", "bare go-sdk (echo tool)", false, false},
		{Basic, "basic", "basic", false, false},
		{Passthrough, "passthrough", "passthrough", false, true},
		{Exchange, "exchange", "exchange", false, true},
		{DevBasic, "basic", "basic (dev stack, one process)", true, false},
		{DevExchange, "exchange", "exchange (dev stack, one process)", true, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.target), func(t *testing.T) {
			assert.Equal(t, tc.mode, tc.target.Mode())
			assert.Equal(t, tc.label, tc.target.Label())
			assert.Equal(t, tc.dev, tc.target.Dev())
			assert.Equal(t, tc.oauth, tc.target.OAuth())
		})
	}
}
