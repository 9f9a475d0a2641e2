package loadbench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCPUModel(t *testing.T) {
	assert.Equal(t, "AMD EPYC 7B13", cpuModel([]byte("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nmodel name\t: second\n")))
	assert.Empty(t, cpuModel([]byte("processor\t: 0\n")))
}

func TestParseProcStatBusy(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    string
	}{
		{
			// user nice system idle iowait irq softirq steal guest guest_nice
			name: "busy is user+nice+system+irq+softirq+steal",
			stat: "cpu  100 1 20 5000 70 2 3 4 9 0\ncpu0 50 0 10 2500 35 1 1 2 0 0\n",
			want: 1300 * time.Millisecond, // 130 ticks
		},
		{name: "not the cpu line", stat: "intr 1 2 3 4 5 6 7 8 9\n", wantErr: "cpu line"},
		{name: "garbage", stat: "cpu  1 2 x 4 5 6 7 8 9\n", wantErr: "field 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatBusy([]byte(tc.stat))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDescribeMachine(t *testing.T) {
	m := DescribeMachine()
	assert.Positive(t, m.Cores)
	assert.NotEmpty(t, m.Go)
}
