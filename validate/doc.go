// Package validate checks a Docker Engine managed plugin's config.json (and
// plugin-settings.json) before anything is built or installed.
//
// dockerd validates nothing when a plugin is created: a bad config fails
// later, at enable or at run time, or is silently half-ignored. This package
// reports all of that up front, each finding located at file:line:col with a
// JSON pointer (keys spelled as in the file) and a stable rule ID (see
// Rules):
//
//   - malformed JSON (syntax, BOM, size, depth), with the exact position;
//   - schema violations against the embedded schemas (package schemas), after
//     normalising key case the way dockerd's encoding/json decodes it;
//   - semantic rules for what dockerd would reject at enable or run time
//     (mount without source, no usable interface type, relative paths, ...)
//     and what it accepts but runs differently (user, unknown keys,
//     capabilities runc drops), with the severity of their class (below);
//   - documents that are not plugin configs at all (null, {}, an image
//     config), as one finding.
//
// Key case rule: dockerd matches keys case-insensitively. dplug accepts,
// without a warning, the canonical form dockerd writes (PropagatedMount),
// the all-lowercase form (propagatedmount) and the lower-camel form moby's
// docs use (propagatedMount). Any other casing (PROPAGATEDMOUNT,
// Propagatedmount) still works in dockerd but draws a DP104 warning.
//
// Severity follows the policy of SPEC §3: each rule has a Class. What
// dockerd refuses at create, enable or run (or crashes on) is Refused, an
// error everywhere. What dockerd accepts but runs differently from what is
// written (user, unknown keys, capabilities runc drops, 1.12-era keys) is
// Misleading: an error for the author (the default, Author) and a warning
// for a consumer (ForConsumer: install, pull, run, test). Advice is a
// warning everywhere. WithSettings applies install-time settings (as
// docker plugin set takes them) before the checks, so a consumer judges the
// effective values.
//
// DP100 (wrong type) is reported exactly when encoding/json fails to decode
// the document into moby's types, which the tests check against
// encoding/json itself. Real-world configs that dockerd runs
// (testdata/corpus) give no errors in the consumer view. The package never
// panics on any input, and never blocks on a FIFO or device. Nothing is
// compiled or parsed at init: the schemas are compiled on first use, once
// per process.
package validate
