package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnusedBuildArgs(t *testing.T) {
	const multi = `ARG GLOBAL=1
FROM base AS deps
ARG DEPS_ONLY
RUN true

FROM base AS mounted
ARG MOUNTED_ONLY

FROM base AS tools
ARG TOOLS_ONLY

FROM base AS unrelated
ARG UNRELATED_ONLY

FROM deps AS final
ARG VERSION
COPY --from=tools /x /x
RUN --mount=type=bind,from=mounted,target=/m true
COPY --from=0 /y /y
`
	tests := []struct {
		name       string
		dockerfile string
		args       []string
		target     string
		want       []string
	}{
		{"all consumed", multi, []string{"GLOBAL", "DEPS_ONLY", "VERSION", "TOOLS_ONLY", "MOUNTED_ONLY"}, "", nil},
		{"unknown", multi, []string{"VERSION", "VERSOIN", "NOPE"}, "", []string{"NOPE", "VERSOIN"}},
		{"unbuilt stage", multi, []string{"UNRELATED_ONLY", "VERSION"}, "", []string{"UNRELATED_ONLY"}},
		{"target", multi, []string{"UNRELATED_ONLY", "VERSION", "GLOBAL"}, "unrelated", []string{"VERSION"}},
		{"target case", multi, []string{"TOOLS_ONLY"}, "TOOLS", nil},
		{"predefined", multi, []string{"HTTP_PROXY", "https_proxy", "NO_PROXY", "ALL_PROXY", "ftp_proxy", "BUILDKIT_INLINE_CACHE", "BUILDKIT_SYNTAX", "SOURCE_DATE_EPOCH"}, "", nil},
		{"variable reference: assume every stage", "ARG IMG=base\nFROM base AS a\nARG A\nFROM $IMG\nCOPY --from=${S} /a /a\n", []string{"A", "B"}, "", []string{"B"}},
		{"unparsable: no warning", "FROM base\nRUN --mount=type=nope true\nNOSUCH x\n", []string{"X"}, "", nil},
		{"empty", "", []string{"X"}, "", nil},
		{"check directive", "# check=skip=all\nFROM base\nARG A\n", []string{"A", "B"}, "", []string{"B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := map[string]string{}
			for _, a := range tc.args {
				args[a] = "v"
			}
			got := unusedBuildArgs([]byte(tc.dockerfile), args, tc.target)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnusedArgsWarning(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"X"}, "warning: build-arg X not consumed: no ARG in the stages built from Dockerfile declares it"},
		{[]string{"X", "Y"}, "warning: build-args X, Y not consumed: no ARG in the stages built from Dockerfile declares them"},
	} {
		if got := unusedArgsWarning(tc.names, "Dockerfile"); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}
