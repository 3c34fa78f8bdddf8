package validate

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestRandomConfigs generates configs from the key tables with random key
// case, duplicates and value types, and checks dockerd parity (DP100 iff
// encoding/json fails on moby's types) and well-formed diagnostics. The
// seed is 1 unless DPLUG_SEED=N (or =random) says otherwise.
func TestRandomConfigs(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	seed := testenv.SeedDefault(t, 1)
	r := rand.New(rand.NewPCG(seed, 2))
	typeErrors := 0
	for i := range n {
		settings := i%4 == 3
		sh := configShape
		if settings {
			sh = settingsShape
		}
		var b strings.Builder
		genValue(r, &b, sh, 0)
		data := []byte(b.String())
		diags := Bytes("config.json", data, WithKind(map[bool]Kind{false: KindConfig, true: KindSettings}[settings]))
		checkWellFormed(t, data, diags)
		checkParity(t, data, settings, diags)
		for _, d := range diags {
			if d.Rule == "DP100" {
				typeErrors++
				break
			}
		}
		if t.Failed() {
			t.Fatalf("input %d (seed %d): %s", i, seed, data)
		}
	}
	// The generator must produce both parseable and unparseable configs.
	if typeErrors < n/10 || typeErrors > n*9/10 {
		t.Errorf("%d of %d inputs have type errors: the generator is lopsided", typeErrors, n)
	}
	t.Logf("%d of %d inputs have type errors", typeErrors, n)
}

var randStrings = []string{"", "x", "value", "source", "path", "Value", "/abs", "rel/path", "docker.volumedriver/1.0",
	"weird", "CAP_SYS_ADMIN", "sys_admin", "host", "none", "A=1", "moby.plugins.http/v1", "p.sock", "\u00e9", "\\u0041"}

func genValue(r *rand.Rand, b *strings.Builder, sh *shape, depth int) {
	// Mostly the right type, sometimes anything.
	if sh == nil || depth > 4 || r.IntN(8) == 0 {
		genScalar(r, b, depth)
		return
	}
	switch sh.kind {
	case kObject:
		b.WriteByte('{')
		k := r.IntN(len(sh.fields) + 2)
		for i := range k {
			if i > 0 {
				b.WriteByte(',')
			}
			var name string
			var child *shape
			if r.IntN(10) == 0 {
				name = "unknown" + strconv.Itoa(r.IntN(3))
			} else {
				f := sh.fields[r.IntN(len(sh.fields))]
				name, child = randomCase(r, f.name), f.s
			}
			b.WriteString(strconv.Quote(name))
			b.WriteByte(':')
			genValue(r, b, child, depth+1)
		}
		b.WriteByte('}')
	case kArray:
		b.WriteByte('[')
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			genValue(r, b, sh.elem, depth+1)
		}
		b.WriteByte(']')
	default:
		switch r.IntN(4) {
		case 0:
			b.WriteString("null")
		default:
			b.WriteString(strconv.Quote(randStrings[r.IntN(len(randStrings))]))
		}
	}
}

func genScalar(r *rand.Rand, b *strings.Builder, depth int) {
	switch r.IntN(9) {
	case 0:
		b.WriteString("null")
	case 1:
		b.WriteString("true")
	case 2:
		b.WriteString("false")
	case 3:
		b.WriteString([]string{"0", "1", "-1", "1.0", "1e3", "4294967295", "4294967296", "-0", "12345678901234567890"}[r.IntN(9)])
	case 4:
		if depth < 6 {
			b.WriteString("[")
			genScalar(r, b, depth+1)
			b.WriteString("]")
		} else {
			b.WriteString("[]")
		}
	case 5:
		if depth < 6 {
			b.WriteString(`{"k":`)
			genScalar(r, b, depth+1)
			b.WriteString("}")
		} else {
			b.WriteString("{}")
		}
	default:
		b.WriteString(strconv.Quote(randStrings[r.IntN(len(randStrings))]))
	}
}

func randomCase(r *rand.Rand, name string) string {
	switch r.IntN(5) {
	case 0:
		return strings.ToLower(name)
	case 1:
		return strings.ToUpper(name)
	case 2:
		bs := []byte(name)
		for i := range bs {
			if r.IntN(2) == 0 {
				bs[i] ^= 0x20 * byte(boolInt(bs[i] >= 'a' && bs[i] <= 'z' || bs[i] >= 'A' && bs[i] <= 'Z'))
			}
		}
		return string(bs)
	default:
		return name
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
