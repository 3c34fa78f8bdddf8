package build

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// predefinedArgs are build args every build takes without an ARG, like
// Docker's (the proxy variables); BUILDKIT_* and SOURCE_DATE_EPOCH are read
// by BuildKit itself.
var predefinedArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true,
	"HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true,
	"NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
	"SOURCE_DATE_EPOCH": true,
}

// unusedBuildArgs returns, sorted, the names in args that no ARG consumes:
// neither a global ARG (before the first FROM) nor an ARG of a stage the
// build runs (target, or the last stage, and the stages it uses through
// FROM, COPY --from and RUN --mount=from). Predefined args never count.
// A Dockerfile that does not parse gives none: the build reports it.
func unusedBuildArgs(dockerfile []byte, args map[string]string, target string) (unused []string) {
	var candidates []string
	for k := range args {
		if !predefinedArgs[k] && !strings.HasPrefix(k, "BUILDKIT_") {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	defer func() {
		// BuildKit's parser on a file the frontend will refuse anyway.
		if recover() != nil {
			unused = nil
		}
	}()
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil
	}
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil || len(stages) == 0 {
		return nil
	}
	declared := map[string]bool{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			declared[kv.Key] = true
		}
	}
	for _, i := range builtStages(stages, target) {
		for _, c := range stages[i].Commands {
			if a, ok := c.(*instructions.ArgCommand); ok {
				for _, kv := range a.Args {
					declared[kv.Key] = true
				}
			}
		}
	}
	for _, k := range candidates {
		if !declared[k] {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	return unused
}

// builtStages returns the indexes of the stages a build of target runs. A
// reference it cannot resolve (one with a variable) makes it assume all.
func builtStages(stages []instructions.Stage, target string) []int {
	all := func() []int {
		idx := make([]int, len(stages))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	byName := map[string]int{}
	for i, s := range stages {
		if s.Name != "" {
			byName[strings.ToLower(s.Name)] = i
		}
	}
	start := len(stages) - 1
	if target != "" {
		i, ok := byName[strings.ToLower(target)]
		if !ok {
			return all() // the frontend says the target is unknown
		}
		start = i
	}
	// ref resolves a FROM, --from or mount from= value to a stage, if it is
	// one; ok is false when it cannot tell.
	ref := func(s string, numeric bool) (int, bool, bool) {
		if strings.Contains(s, "$") {
			return 0, false, false
		}
		if i, ok := byName[strings.ToLower(s)]; ok {
			return i, true, true
		}
		if numeric {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(stages) {
				return n, true, true
			}
		}
		return 0, false, true // an image
	}
	seen := map[int]bool{}
	queue := []int{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if seen[i] {
			continue
		}
		seen[i] = true
		var refs []string
		var numeric []bool
		refs, numeric = append(refs, stages[i].BaseName), append(numeric, false)
		for _, c := range stages[i].Commands {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					refs, numeric = append(refs, c.From), append(numeric, true)
				}
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					if m.From != "" {
						refs, numeric = append(refs, m.From), append(numeric, true)
					}
				}
			}
		}
		for j, r := range refs {
			n, isStage, ok := ref(r, numeric[j])
			if !ok {
				return all()
			}
			if isStage {
				queue = append(queue, n)
			}
		}
	}
	var out []int
	for i := range stages {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// unusedArgsWarning is the warning for unused build args, like Docker's
// "One or more build-args [X] were not consumed".
func unusedArgsWarning(names []string, dockerfile string) string {
	s := ""
	if len(names) > 1 {
		s = "s"
	}
	return fmt.Sprintf("warning: build-arg%s %s not consumed: no ARG in the stages built from %s declares %s",
		s, strings.Join(names, ", "), dockerfile, map[bool]string{true: "them", false: "it"}[len(names) > 1])
}
