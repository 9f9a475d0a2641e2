package envflag

import (
	"flag"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantPort int
		wantName string
		wantErr  string
	}{
		{name: "defaults", wantPort: 1, wantName: "d"},
		{name: "env fills unset flags", env: map[string]string{"T_PORT": "7", "T_NAME": "e"}, wantPort: 7, wantName: "e"},
		{name: "flag wins over env", args: []string{"--port=9"}, env: map[string]string{"T_PORT": "7"}, wantPort: 9, wantName: "d"},
		{name: "bad env value names the variable", env: map[string]string{"T_PORT": "seven"}, wantErr: "T_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			port := fs.Int("port", 1, "")
			name := fs.String("name", "d", "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := Apply(fs, map[string]string{"port": "T_PORT", "name": "T_NAME"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "seven") {
					t.Fatalf("err = %v, want mention of %s without the value", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *port != tt.wantPort || *name != tt.wantName {
				t.Fatalf("port=%d name=%q, want %d %q", *port, *name, tt.wantPort, tt.wantName)
			}
		})
	}
}
