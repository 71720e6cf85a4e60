package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/pkg/v3/flags"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"
)

// TestDeploy keeps deploy/ true to the code, without docker, kubectl or
// systemd. It builds govlog, runs deploy/compose/setup.sh (and so
// deploy/setup-keys.sh) in a copy of deploy/, and then checks:
//
//   - every daemon config there with the real binary's --check: the
//     examples with keys made for them, and each config that compose,
//     Kubernetes and systemd run with every path in it resolved through
//     that service's mounts to the files setup-keys.sh made (a path no
//     mount provides, a file it reads on a writable mount or state on a
//     read-only one, and any warning, are errors);
//   - every govlog command line (Dockerfile, compose, Kubernetes, systemd,
//     deploy/README.md) against the command tree: subcommands and flags
//     must exist;
//   - that the files they mount or install exist, the addresses the
//     configs dial are services listening there, healthchecks and probes
//     ask the admin listener, and the security settings (non-root,
//     read-only root, no capabilities, the sandbox);
//   - the election: two or more serve processes (compose services, a
//     StatefulSet's pods) with one prefix, each advertising its own
//     address (a pod's from the downward API), dialing the etcd members as
//     they advertise themselves, started one first; each etcd command line
//     parsed and validated by etcd's own code; the config for several
//     machines under systemd;
//   - govlog-healthcheck, built as the Dockerfile builds it, against a
//     running witness's /readyz.
//
// Where kubectl or systemd-analyze are installed it also builds the
// kustomization and verifies the units.
func TestDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds govlog")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash: setup.sh needs it")
	}
	d := newDeployCheck(t)
	parts := []struct {
		name  string
		check func(*testing.T)
	}{
		{"dockerfile", d.checkDockerfile},
		{"examples", d.checkExamples},
		{"compose", d.checkCompose},
		{"kubernetes", d.checkKubernetes},
		{"systemd", d.checkSystemd},
		{"readme", d.checkREADMECommands},
		{"healthcheck", d.checkHealthcheck},
	}
	ran := 0
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) {
			ran++
			p.check(t)
		})
	}
	if ran == len(parts) { // not when -run picked some
		d.checkEveryConfigChecked(t)
	}
}

// deployCheck is what TestDeploy's parts share.
type deployCheck struct {
	repo string // the repository's deploy/
	tmp  string
	bin  string // govlog, built
	work string // the copy of deploy/ that setup.sh ran in
	out  string // what setup-keys.sh made (work/compose/secrets)
	// checked holds the deploy/ configs --check passed on, relative to
	// deploy/.
	checked map[string]bool
	// copies maps the copies of files Kubernetes volumes show to the
	// files copied.
	copies map[string]string
	// imageBinaries are the paths of the image's executables.
	imageBinaries []string
	configs       int
}

func newDeployCheck(t *testing.T) *deployCheck {
	repo, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	d := &deployCheck{repo: repo, tmp: tmp, bin: filepath.Join(tmp, "govlog"), work: filepath.Join(tmp, "deploy"), checked: map[string]bool{}, copies: map[string]string{}}
	d.out = filepath.Join(d.work, "compose", "secrets")
	dockerfile, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The executables: go build -o /out<path>, copied from /out/usr/local/bin/
	// (checkDockerfile checks that).
	for _, m := range regexp.MustCompile(`go build [^&]*-o /out(/\S+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		d.imageBinaries = append(d.imageBinaries, m[1])
	}
	if out, err := exec.Command("go", "build", "-o", d.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The files setup.sh needs, and the compose configs, but not the
	// secrets, state or .env a run of setup.sh in the repository left.
	copyFile(t, filepath.Join(repo, "setup-keys.sh"), filepath.Join(d.work, "setup-keys.sh"))
	entries, err := os.ReadDir(filepath.Join(repo, "compose"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != ".env" {
			copyFile(t, filepath.Join(repo, "compose", e.Name()), filepath.Join(d.work, "compose", e.Name()))
		}
	}
	setup := exec.Command("bash", filepath.Join(d.work, "compose", "setup.sh"))
	setup.Env = append(os.Environ(), "GOVLOG="+d.bin)
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("compose/setup.sh: %v\n%s", err, out)
	}
	env, err := os.ReadFile(filepath.Join(d.work, "compose", ".env"))
	if err != nil || !bytes.Contains(env, []byte("GOVLOG_UID=")) || !bytes.Contains(env, []byte("GOVLOG_GID=")) {
		t.Fatalf("compose/setup.sh wrote no .env with GOVLOG_UID and GOVLOG_GID (%v): %s", err, env)
	}
	return d
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// checkCommandLine checks a govlog command line (the arguments after the
// binary) against the command tree, and returns the subcommand's name and
// its --config, if given.
func checkCommandLine(t *testing.T, where string, args []string) (sub, config string) {
	t.Helper()
	root := newRootCmd()
	cmd, rest, err := root.Find(args)
	if err == nil {
		cmd.InitDefaultHelpFlag()
		err = cmd.ParseFlags(rest)
	}
	if err == nil {
		err = cmd.ValidateArgs(cmd.Flags().Args())
	}
	if err != nil {
		t.Errorf("%s: govlog %s: %v", where, strings.Join(args, " "), err)
		return "", ""
	}
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed {
		config = f.Value.String()
	}
	return cmd.Name(), config
}

// A mount shows a host file or folder at a path where a daemon runs (a
// container's, or the machine's under systemd).
type mount struct {
	target   string
	source   string
	writable bool
}

// resolve returns the host path p is, through the mount closest to it.
func resolve(mounts []mount, p string) (string, mount, bool) {
	best := -1
	for i, m := range mounts {
		if p == m.target || strings.HasPrefix(p, strings.TrimSuffix(m.target, "/")+"/") {
			if best < 0 || len(m.target) > len(mounts[best].target) {
				best = i
			}
		}
	}
	if best < 0 {
		return "", mount{}, false
	}
	m := mounts[best]
	return filepath.Join(m.source, strings.TrimPrefix(p, m.target)), m, true
}

// stateSettings are the config settings that name what a daemon writes.
var stateSettings = map[string]bool{"database": true, "path": true, "checkpoint_dir": true, "tiles_dir": true}

// checkMountedConfig checks the config a daemon reads at configPath
// through mounts: every path in it must be on a mount (files it reads on
// read-only ones, state on writable ones), and --check must pass with them
// resolved and env, the daemon's environment. It returns the config as a
// map and the resolved copy's path.
func (d *deployCheck) checkMountedConfig(t *testing.T, where, sub, configPath string, mounts []mount, env map[string]string) (map[string]any, string) {
	t.Helper()
	host, m, ok := resolve(mounts, configPath)
	switch {
	case configPath == "":
		t.Errorf("%s: runs govlog %s without -c CONFIG", where, sub)
		return nil, ""
	case !ok:
		t.Errorf("%s: no mount provides the config %s", where, configPath)
		return nil, ""
	case m.writable:
		t.Errorf("%s: the config %s is on a writable mount", where, configPath)
	}
	return d.checkConfig(t, where, sub, host, env, func(keys []string, _ *yaml.Node, p string) (string, error) {
		h, m, ok := resolve(mounts, p)
		setting := keys[len(keys)-1]
		switch {
		case !ok:
			return "", fmt.Errorf("%s: %s, which no mount provides", setting, p)
		case stateSettings[setting] && !m.writable:
			return "", fmt.Errorf("%s: %s is state, on a read-only mount", setting, p)
		case !stateSettings[setting] && m.writable:
			return "", fmt.Errorf("%s: %s is read, but on a writable mount", setting, p)
		}
		if !stateSettings[setting] {
			if _, err := os.Stat(h); err != nil {
				return "", fmt.Errorf("%s: %s: %v", setting, p, err)
			}
		}
		return h, nil
	})
}

// pathFunc returns what to put instead of the absolute path p, found
// under the settings keys in mapping parent.
type pathFunc func(keys []string, parent *yaml.Node, p string) (string, error)

// checkConfig rewrites every absolute path in the config at path with fn,
// runs `govlog sub -c <rewritten> --check` with env as the only variables
// the config names (${NAME}) and expects OK and no warning.
func (d *deployCheck) checkConfig(t *testing.T, where, sub, path string, env map[string]string, fn pathFunc) (map[string]any, string) {
	t.Helper()
	d.markChecked(path)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return nil, ""
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Errorf("%s: %s: %v", where, path, err)
		return nil, ""
	}
	walkPaths(&doc, nil, nil, func(keys []string, parent, n *yaml.Node) {
		v, err := fn(keys, parent, n.Value)
		if err != nil {
			t.Errorf("%s: %s: %v", where, path, err)
			return
		}
		n.Value = v
	})
	rewritten, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	d.configs++
	file := filepath.Join(d.tmp, "configs", fmt.Sprintf("%d-%s", d.configs, filepath.Base(path)))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, rewritten, 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(d.bin, sub, "-c", file, "--check")
	check.Env = configEnv(text, env)
	out, err := check.CombinedOutput()
	if err != nil || !bytes.HasPrefix(out, []byte(file+": OK")) || bytes.Contains(out, []byte("warning")) {
		t.Errorf("%s: govlog %s --check of %s: %v\n%s", where, sub, path, err, out)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(text, &cfg); err != nil {
		t.Errorf("%s: %s: %v", where, path, err)
	}
	return cfg, file
}

// configEnv is this process's environment without the variables a config
// names (${NAME}), and with env: a variable the daemon is not given is not
// set by chance.
func configEnv(config []byte, env map[string]string) []string {
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(config), -1) {
		named[m[1]] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !named[k] {
			out = append(out, kv)
		}
	}
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// walkPaths calls fn on every scalar in n that is an absolute path, with
// the settings above it and the mapping that holds it.
func walkPaths(n *yaml.Node, keys []string, parent *yaml.Node, fn func(keys []string, parent, n *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkPaths(c, keys, parent, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkPaths(n.Content[i+1], append(slices.Clip(keys), n.Content[i].Value), n, fn)
		}
	case yaml.ScalarNode:
		// election.prefix is a key prefix in etcd, not a file.
		if strings.HasPrefix(n.Value, "/") && len(keys) > 0 && !slices.Equal(keys, []string{"election", "prefix"}) {
			fn(keys, parent, n)
		}
	}
}

// markChecked records that the config at path (in deploy/ or its copy)
// was checked.
func (d *deployCheck) markChecked(path string) {
	path = cmp.Or(d.copies[path], path)
	for _, dir := range []string{d.repo, d.work} {
		if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
			d.checked[filepath.ToSlash(rel)] = true
		}
	}
}

// setting returns the string at a dotted path of a config map.
func setting(cfg map[string]any, name string) string {
	var v any = cfg
	for _, k := range strings.Split(name, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// listenPorts returns the ports a daemon's config listens on for others:
// listen and http_listen.
func listenPorts(cfg map[string]any) []string {
	var ports []string
	for _, k := range []string{"listen", "http_listen"} {
		if _, port, err := net.SplitHostPort(setting(cfg, k)); err == nil {
			ports = append(ports, port)
		}
	}
	return ports
}

// dialed returns the host:port addresses a witness or monitor config
// dials: its logs' gRPC addresses and tiles, and its peers.
func dialed(cfg map[string]any) []string {
	var addrs []string
	logs, _ := cfg["logs"].([]any)
	for _, l := range logs {
		m, _ := l.(map[string]any)
		if u, _ := m["url"].(string); u != "" {
			addrs = append(addrs, u)
		}
		if u, _ := m["tiles"].(string); u != "" {
			addrs = append(addrs, urlHostPort(u))
		}
	}
	peers, _ := cfg["peers"].([]any)
	for _, p := range peers {
		s, _ := p.(string)
		addrs = append(addrs, urlHostPort(s))
	}
	return addrs
}

// urlHostPort is the host:port an http(s) URL dials.
func urlHostPort(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// policyWitnessURLs returns the URLs of a policy file's witnesses.
func policyWitnessURLs(t *testing.T, path string) []string {
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, line := range strings.Split(string(text), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "witness" {
			urls = append(urls, f[3])
		}
	}
	return urls
}

// checkAdminURL checks that a healthcheck or probe at host:port and path
// reaches cfg's admin listener.
func checkAdminURL(t *testing.T, where string, cfg map[string]any, port, path string, paths ...string) {
	t.Helper()
	_, adminPort, err := net.SplitHostPort(setting(cfg, "admin_listen"))
	switch {
	case err != nil:
		t.Errorf("%s: admin_listen %q: %v", where, setting(cfg, "admin_listen"), err)
	case port != adminPort:
		t.Errorf("%s: asks port %s, but admin_listen is %s", where, port, setting(cfg, "admin_listen"))
	case !slices.Contains(paths, path):
		t.Errorf("%s: asks %s, want one of %v", where, path, paths)
	}
}

func (d *deployCheck) checkDockerfile(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(d.repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Instructions, continuation lines joined; the final stage's apart.
	var all, final []string
	var line string
	for _, l := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			line += s
			continue
		}
		if line += l; strings.TrimSpace(line) != "" {
			if strings.HasPrefix(line, "FROM ") {
				final = nil
			}
			all, final = append(all, line), append(final, line)
		}
		line = ""
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{"ENV CGO_ENABLED=0", "./cmd/govlog", "./deploy/docker/healthcheck.go"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Dockerfile: no %q", want)
		}
	}
	if !strings.Contains(final[0], "distroless/static") {
		t.Errorf("Dockerfile: the image is %q, want distroless/static", final[0])
	}
	var entrypoint, cmd []string
	user := ""
	for _, l := range final {
		verb, arg, _ := strings.Cut(l, " ")
		switch verb {
		case "USER":
			user = arg
		case "ENTRYPOINT":
			entrypoint = jsonArray(t, l, arg)
		case "CMD":
			cmd = jsonArray(t, l, arg)
		case "COPY":
			if strings.Contains(arg, "/out/usr/local/bin/ /usr/local/bin/") {
				continue
			}
			if !strings.Contains(arg, "--from=") {
				t.Errorf("Dockerfile: %q copies from the build context into the image", l)
			}
		}
	}
	if !strings.Contains(joined, "COPY --from=build /out/usr/local/bin/ /usr/local/bin/") {
		t.Errorf("Dockerfile: the final stage does not copy /out/usr/local/bin/ from the build stage; TestDeploy reads the binaries' paths from it")
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("Dockerfile: USER %q: the image must run as a non-root user", user)
	}
	if len(entrypoint) != 1 || !slices.Contains(d.imageBinaries, entrypoint[0]) || filepath.Base(entrypoint[0]) != "govlog" {
		t.Errorf("Dockerfile: ENTRYPOINT %q, want govlog, one of the binaries built (%v)", entrypoint, d.imageBinaries)
	}
	checkCommandLine(t, "Dockerfile CMD", cmd)
	// What setup.sh makes stays out of the build context.
	ignore, err := os.ReadFile(filepath.Join(d.repo, "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	gitignore, err := os.ReadFile(filepath.Join(d.repo, "compose", ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	ignored := strings.Fields(string(ignore))
	for _, l := range strings.Split(string(gitignore), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if p := "deploy/compose/" + strings.Trim(l, "/"); !slices.Contains(ignored, p) {
			t.Errorf("Dockerfile.dockerignore does not keep %s (made by setup.sh) out of the build context", p)
		}
	}
}

func jsonArray(t *testing.T, line, arg string) []string {
	t.Helper()
	var v []string
	if err := yaml.Unmarshal([]byte(arg), &v); err != nil || !strings.HasPrefix(arg, "[") {
		t.Errorf("Dockerfile: %q: want the exec form, a JSON array", line)
	}
	return v
}

// checkExamples checks the commented examples, deploy/*.yaml, with keys,
// a genesis, a policy and secrets made where they name them.
func (d *deployCheck) checkExamples(t *testing.T) {
	for _, ex := range []struct{ file, sub string }{
		{"govlog.yaml", "serve"},
		{"govlog-sqlite.yaml", "serve"},
		{"witness.yaml", "witness"},
		{"monitor.yaml", "monitor"},
	} {
		path := filepath.Join(d.repo, ex.file)
		f := &exampleFiles{bin: d.bin, root: filepath.Join(d.tmp, "examples", ex.file), origins: map[string]string{}}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*-?\s*origin:\s*(\S+)`).FindAllStringSubmatch(string(text), -1) {
			f.follows = append(f.follows, m[1])
		}
		d.checkConfig(t, ex.file, ex.sub, path, nil, f.make)
	}
}

// exampleFiles makes, below root, the files an example config names.
type exampleFiles struct {
	bin  string
	root string
	// follows are the origins the config names.
	follows []string
	origins map[string]string // origin -> a key pair's path prefix
	n       int
}

func (f *exampleFiles) make(keys []string, parent *yaml.Node, p string) (string, error) {
	host := filepath.Join(f.root, p)
	setting := keys[len(keys)-1]
	if stateSettings[setting] {
		return host, nil
	}
	if _, err := os.Stat(host); err == nil {
		return host, nil
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return "", err
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(host, ".key"), ".vkey")
	origin := mappingValue(parent, "origin")
	switch {
	case setting == "key" && origin == "": // a witness's own
		return host, f.keygen(stem, "witness.example/w", "--witness")
	case (setting == "key" || setting == "vkey") && origin != "":
		return host, f.keygen(stem, origin)
	case setting == "rule_key" || setting == "keys" || setting == "registry_genesis_keys":
		return host, f.keygen(stem, filepath.Base(stem))
	case setting == "registry":
		agency := filepath.Join(f.root, "agency")
		if err := f.keygen(agency, "ministry-of-finance"); err != nil {
			return "", err
		}
		vkey, err := os.ReadFile(agency + ".vkey")
		if err != nil {
			return "", err
		}
		genesis := fmt.Sprintf("agencies:\n  - id: ministry-of-finance\n    roles: [discloser]\n    keys:\n      - vkey: %s\n", bytes.TrimSpace(vkey))
		return host, os.WriteFile(host, []byte(genesis), 0o644)
	case setting == "policy":
		return host, f.policy(host)
	case strings.HasSuffix(setting, "_file"): // passwords, secrets
		return host, os.WriteFile(host, []byte("an example secret\n"), 0o600)
	}
	return "", fmt.Errorf("%s: %s: TestDeploy makes no file for this setting", strings.Join(keys, "."), p)
}

// policy writes a policy with a key for every origin the config follows.
func (f *exampleFiles) policy(path string) error {
	var b strings.Builder
	for _, origin := range f.follows {
		prefix, ok := f.origins[origin]
		if !ok {
			f.n++
			prefix = filepath.Join(f.root, "origins", strconv.Itoa(f.n))
			if err := f.keygen(prefix, origin); err != nil {
				return err
			}
			f.origins[origin] = prefix
		}
		vkey, err := os.ReadFile(prefix + ".vkey")
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "log %s\n", bytes.TrimSpace(vkey))
	}
	return os.WriteFile(path, []byte(b.String()+"quorum none\n"), 0o644)
}

func (f *exampleFiles) keygen(prefix, name string, extra ...string) error {
	if _, err := os.Stat(prefix + ".key"); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return err
	}
	out, err := exec.Command(f.bin, append([]string{"keygen", "--name", name, "--out", prefix}, extra...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("keygen %s: %v: %s", name, err, out)
	}
	return nil
}

// mappingValue is the scalar under key in mapping n, or "".
func mappingValue(n *yaml.Node, key string) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// composeFile is what TestDeploy reads of deploy/compose/compose.yaml.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	User        string            `yaml:"user"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Secrets     []composeSecret   `yaml:"secrets"`
	DependsOn   map[string]any    `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// composeSecret is a service's secret: its name, or source and target.
type composeSecret struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

func (s *composeSecret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Source = n.Value
		return nil
	}
	type plain composeSecret
	return n.Decode((*plain)(s))
}

// composeImage is the image compose builds from deploy/Dockerfile.
const composeImage = "govlog:local"

func (d *deployCheck) checkCompose(t *testing.T) {
	dir := filepath.Join(d.work, "compose")
	text, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(text, &c); err != nil {
		t.Fatal(err)
	}
	for name, s := range c.Secrets {
		if _, err := os.Stat(filepath.Join(dir, s.File)); err != nil {
			t.Errorf("compose: secret %s: %v (setup.sh did not make it)", name, err)
		}
	}
	cfgs := map[string]map[string]any{} // service -> its config
	subs := map[string]string{}         // service -> govlog subcommand
	etcds := map[string]etcdMember{}    // service -> its etcd member
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("compose: %s depends on %s, which is no service", name, dep)
			}
		}
		where := "compose " + name
		switch {
		case s.Image == composeImage:
			cfgs[name], subs[name] = d.checkComposeService(t, where, dir, c, s)
		case etcdImage.MatchString(s.Image) || strings.Contains(s.Image, "etcd"):
			etcds[name] = checkComposeEtcd(t, where, dir, s)
		}
	}
	var serves []string
	for _, name := range sortedKeys(subs) {
		if subs[name] == "serve" {
			serves = append(serves, name)
			d.checkComposeDatabase(t, c, name, cfgs[name])
		}
	}
	checkComposeElection(t, c, serves, cfgs, etcds)
	d.checkComposeREADMEPorts(t, c, serves, cfgs)
	// Every address a witness or monitor dials, and every witness the
	// policy names, is a service listening there.
	listens := func(addr string) bool {
		host, port, err := net.SplitHostPort(addr)
		return err == nil && subs[host] != "" && slices.Contains(listenPorts(cfgs[host]), port)
	}
	for name, cfg := range cfgs {
		for _, addr := range dialed(cfg) {
			if !listens(addr) {
				t.Errorf("compose %s: dials %s, where no service listens", name, addr)
			}
		}
	}
	for _, u := range policyWitnessURLs(t, filepath.Join(d.out, "public", "policy.txt")) {
		if !listens(urlHostPort(u)) {
			t.Errorf("compose: setup-keys.sh's policy names the witness %s, where no service listens", u)
		}
	}
}

// checkComposeService checks one govlog service and returns its config and
// subcommand.
func (d *deployCheck) checkComposeService(t *testing.T, where, dir string, c composeFile, s composeService) (map[string]any, string) {
	if ctx := filepath.Join(d.repo, "compose", s.Build.Context); ctx != filepath.Dir(d.repo) || s.Build.Dockerfile != "deploy/Dockerfile" {
		t.Errorf("%s: builds %s in %s, want deploy/Dockerfile in the repository", where, s.Build.Dockerfile, ctx)
	}
	if u, _, _ := strings.Cut(s.User, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("%s: user %q: want a non-root user", where, s.User)
	}
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("%s: want read_only, cap_drop: [ALL] and no-new-privileges", where)
	}
	sub, config := checkCommandLine(t, where, s.Command)
	mounts := composeVolumes(t, where, dir, filepath.Join(d.tmp, "volumes"), s)
	for _, ref := range s.Secrets {
		secret, ok := c.Secrets[ref.Source]
		if !ok {
			t.Errorf("%s: secret %s is not declared", where, ref.Source)
			continue
		}
		target := ref.Target
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + cmp.Or(target, ref.Source)
		}
		mounts = append(mounts, mount{target: target, source: filepath.Join(dir, secret.File)})
	}
	cfg, _ := d.checkMountedConfig(t, where, sub, config, mounts, nil)
	test := s.Healthcheck.Test
	if len(test) != 3 || test[0] != "CMD" || !slices.Contains(d.imageBinaries, test[1]) {
		t.Errorf("%s: healthcheck %q: want [CMD, govlog-healthcheck, URL] with a binary of the image (%v)", where, test, d.imageBinaries)
	} else if u, err := url.Parse(test[2]); err != nil {
		t.Errorf("%s: healthcheck URL: %v", where, err)
	} else {
		checkAdminURL(t, where+" healthcheck", cfg, u.Port(), u.Path, "/readyz", "/healthz")
	}
	return cfg, sub
}

// composeVolumes returns a service's volumes as mounts: folders of dir
// (which must exist), or named volumes, below volumes.
func composeVolumes(t *testing.T, where, dir, volumes string, s composeService) []mount {
	var mounts []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Errorf("%s: volume %q: want source:target", where, v)
			continue
		}
		m := mount{target: parts[1], writable: len(parts) < 3 || parts[2] != "ro"}
		if strings.HasPrefix(parts[0], ".") {
			m.source = filepath.Join(dir, parts[0])
			if _, err := os.Stat(m.source); err != nil {
				t.Errorf("%s: volume %s: %v", where, v, err)
			}
		} else { // a named volume
			m.source = filepath.Join(volumes, parts[0])
		}
		mounts = append(mounts, m)
	}
	return mounts
}

// checkComposeDatabase checks that a serve's DSN names the MariaDB
// service, its user and database, and its password file the one MariaDB's
// is.
func (d *deployCheck) checkComposeDatabase(t *testing.T, c composeFile, name string, serve map[string]any) {
	db, ok := c.Services["mariadb"]
	if !ok {
		t.Errorf("compose: no mariadb service")
		return
	}
	dsn := setting(serve, "mysql.dsn")
	want := fmt.Sprintf("%s@tcp(mariadb:3306)/%s", db.Environment["MARIADB_USER"], db.Environment["MARIADB_DATABASE"])
	if dsn != want {
		t.Errorf("compose %s: its DSN is %q, want %q (the mariadb service's user and database)", name, dsn, want)
	}
	// The secret mounted at MARIADB_PASSWORD_FILE must be the file serve
	// reads its password from.
	file := func(s composeService, target string) string {
		for _, ref := range s.Secrets {
			if ref.Target == target || "/run/secrets/"+cmp.Or(ref.Target, ref.Source) == target {
				return c.Secrets[ref.Source].File
			}
		}
		return ""
	}
	dbFile, serveFile := file(db, db.Environment["MARIADB_PASSWORD_FILE"]), file(c.Services[name], setting(serve, "mysql.password_file"))
	if dbFile == "" || dbFile != serveFile {
		t.Errorf("compose: MariaDB's password is %q, %s's %q: want the same secret file", dbFile, name, serveFile)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// kustomization is what TestDeploy reads of a kustomization.yaml.
type kustomization struct {
	Namespace          string   `yaml:"namespace"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
	Images []struct {
		Name string `yaml:"name"`
	} `yaml:"images"`
}

// k8sObject is what TestDeploy reads of a Kubernetes object.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		// A StatefulSet's.
		UpdateStrategy struct {
			Type string `yaml:"type"`
		} `yaml:"updateStrategy"`
		ServiceName         string `yaml:"serviceName"`
		PodManagementPolicy string `yaml:"podManagementPolicy"`
		// A Service's.
		ClusterIP                string `yaml:"clusterIP"`
		PublishNotReadyAddresses bool   `yaml:"publishNotReadyAddresses"`
		// A PodDisruptionBudget's.
		MinAvailable any `yaml:"minAvailable"`
		// Selector is a Service's labels, or a workload's or
		// PodDisruptionBudget's {matchLabels: labels}.
		Selector map[string]any `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec k8sPodSpec `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []k8sClaim `yaml:"volumeClaimTemplates"`
		Ports                []struct {
			Port       int `yaml:"port"`
			TargetPort any `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
	// ns is the namespace kustomize puts it in; file, where it is.
	ns, file string
}

type k8sClaim struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

type k8sPodSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []k8sContainer `yaml:"containers"`
	Volumes    []k8sVolume    `yaml:"volumes"`
}

type k8sVolume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
}

type k8sContainer struct {
	Name           string             `yaml:"name"`
	Image          string             `yaml:"image"`
	Command        []string           `yaml:"command"`
	Args           []string           `yaml:"args"`
	Env            []k8sEnvVar        `yaml:"env"`
	Ports          []k8sContainerPort `yaml:"ports"`
	LivenessProbe  *k8sProbe          `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe          `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []k8sVolumeMount `yaml:"volumeMounts"`
}

type k8sVolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath"`
}

// onClaim reports whether path is on a volume of c's from o's
// volumeClaimTemplates: a disk of the pod's own, kept when it is replaced.
func (c k8sContainer) onClaim(o *k8sObject, path string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(vm k8sVolumeMount) bool {
		return strings.HasPrefix(path+"/", strings.TrimSuffix(vm.MountPath, "/")+"/") &&
			slices.ContainsFunc(o.Spec.VolumeClaimTemplates, func(v k8sClaim) bool { return v.Metadata.Name == vm.Name })
	})
}

type k8sEnvVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
	} `yaml:"valueFrom"`
}

// k8sEnv is the environment container c of o's pod number ordinal sees:
// the downward API's pod name and address made up as Kubernetes makes
// them (a StatefulSet's pods are <name>-<ordinal>).
func k8sEnv(t *testing.T, where string, o *k8sObject, c k8sContainer, ordinal int) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = fmt.Sprintf("%s-%d", o.Metadata.Name, ordinal)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
			env[e.Name] = fmt.Sprintf("10.0.0.%d", ordinal+1)
		default:
			t.Errorf("%s: env %s: TestDeploy knows only values and the fieldRefs metadata.name and status.podIP", where, e.Name)
		}
	}
	return env
}

// fieldRefEnv returns the name of c's variable holding fieldPath.
func fieldRefEnv(c k8sContainer, fieldPath string) string {
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == fieldPath {
			return e.Name
		}
	}
	return ""
}

type k8sContainerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// port is the number a container port reference (a name or a number)
// stands for, and whether the container has that port.
func (c k8sContainer) port(ref any) (string, bool) {
	for _, p := range c.Ports {
		if n := strconv.Itoa(p.ContainerPort); p.Name == fmt.Sprint(ref) || n == fmt.Sprint(ref) {
			return n, true
		}
	}
	return fmt.Sprint(ref), false
}

// k8sTree is deploy/k8s as kustomize builds it.
type k8sTree struct {
	objects []*k8sObject
	// files are the contents of ConfigMaps and Secrets, by
	// "namespace/kind/name", each key's host file: generated ConfigMaps
	// from the repository, the others from the commands in
	// deploy/README.md, run on what setup-keys.sh made.
	files  map[string]map[string]string
	images []string
}

// load reads the kustomization in dir into the tree, in namespace ns
// unless the kustomization names one and ns is empty (an outer
// kustomization's namespace wins, as in kustomize).
func (tr *k8sTree) load(t *testing.T, dir, ns string) {
	var k kustomization
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if ns == "" {
		ns = k.Namespace
	}
	for _, im := range k.Images {
		tr.images = append(tr.images, im.Name)
	}
	for _, g := range k.ConfigMapGenerator {
		files := map[string]string{}
		for _, f := range g.Files {
			key, path, ok := strings.Cut(f, "=")
			if !ok {
				key, path = filepath.Base(f), f
			}
			files[key] = filepath.Join(dir, path)
		}
		tr.files[ns+"/configmap/"+g.Name] = files
	}
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		if fi, err := os.Stat(path); err != nil {
			t.Errorf("%s: resource %s: %v", dir, r, err)
		} else if fi.IsDir() {
			tr.load(t, path, ns)
		} else {
			tr.loadObjects(t, path, ns)
		}
	}
}

func (tr *k8sTree) loadObjects(t *testing.T, path, ns string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for {
		o := &k8sObject{ns: ns, file: path}
		if err := dec.Decode(o); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("%s: %v", path, err)
			}
			return
		}
		tr.objects = append(tr.objects, o)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(text, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readmeResources reads deploy/README.md's `kubectl -n NS create secret
// generic|configmap NAME --from-file=...` commands into files, run on out.
func readmeResources(t *testing.T, readme, out string, files map[string]map[string]string) {
	re := regexp.MustCompile(`^kubectl -n (\S+) create (secret generic|configmap) (\S+) (.*)$`)
	found := 0
	for _, line := range strings.Split(readme, "\n") {
		m := re.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		found++
		kind := strings.Fields(m[2])[0]
		keys := map[string]string{}
		for _, arg := range strings.Fields(m[4]) {
			from, ok := strings.CutPrefix(arg, "--from-file=")
			if !ok {
				t.Errorf("deploy/README.md: %q: TestDeploy reads only --from-file", line)
				continue
			}
			key, path, named := strings.Cut(from, "=")
			if !named {
				key, path = "", from
			}
			path = strings.ReplaceAll(path, `"$OUT"`, out)
			fi, err := os.Stat(path)
			if err != nil {
				t.Errorf("deploy/README.md: %q: %v", line, err)
				continue
			}
			if !fi.IsDir() {
				keys[cmp.Or(key, filepath.Base(path))] = path
				continue
			}
			entries, err := os.ReadDir(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Type().IsRegular() {
					keys[e.Name()] = filepath.Join(path, e.Name())
				}
			}
		}
		files[m[1]+"/"+kind+"/"+m[3]] = keys
	}
	if found == 0 {
		t.Errorf("deploy/README.md has no kubectl create secret or configmap commands")
	}
}

func (d *deployCheck) checkKubernetes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(d.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &k8sTree{files: map[string]map[string]string{}}
	tr.load(t, filepath.Join(d.repo, "k8s"), "")
	readmeResources(t, string(readme), d.out, tr.files)

	cfgs := map[string]map[string]any{} // namespace -> a config in it
	var etcds []etcdMember
	type serveContainer struct {
		where string
		o     *k8sObject
		c     k8sContainer
		cfg   map[string]any
	}
	var serves []serveContainer
	for _, o := range tr.objects {
		if o.Kind != "Deployment" && o.Kind != "StatefulSet" {
			continue
		}
		pod := o.Spec.Template.Spec
		if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("k8s %s/%s: want runAsNonRoot: true", o.ns, o.Metadata.Name)
		}
		for _, c := range pod.Containers {
			where := fmt.Sprintf("k8s %s/%s %s", o.ns, o.Metadata.Name, c.Name)
			if !slices.Contains(tr.images, c.Image) && strings.Contains(c.Image, "etcd") {
				etcds = append(etcds, d.checkK8sEtcd(t, where, tr, o, c)...)
				continue
			}
			cfg, sub := d.checkK8sContainer(t, where, tr, o, c)
			cfgs[o.ns] = cfg
			if sub == "serve" {
				serves = append(serves, serveContainer{where, o, c, cfg})
			}
		}
	}
	if len(serves) != 1 {
		t.Errorf("k8s: %d workloads run govlog serve, want one (of several replicas)", len(serves))
	}
	for _, sc := range serves {
		d.checkK8sServe(t, sc.where, tr, sc.o, sc.c, sc.cfg, etcds)
	}
	d.checkK8sAddresses(t, tr, cfgs, string(readme))
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		if out, err := exec.Command(kubectl, "kustomize", filepath.Join(d.repo, "k8s")).CombinedOutput(); err != nil {
			t.Errorf("kubectl kustomize deploy/k8s: %v\n%s", err, out)
		}
	} else {
		t.Log("no kubectl: deploy/k8s not built with kustomize")
	}
}

// checkK8sContainer checks one govlog container and returns its config
// and subcommand.
func (d *deployCheck) checkK8sContainer(t *testing.T, where string, tr *k8sTree, o *k8sObject, c k8sContainer) (map[string]any, string) {
	if !slices.Contains(tr.images, c.Image) {
		t.Errorf("%s: image %q, which deploy/k8s's images: does not set", where, c.Image)
	}
	if len(c.Command) > 0 {
		t.Errorf("%s: command %q replaces the image's entrypoint (govlog): give args only", where, c.Command)
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: want readOnlyRootFilesystem, no allowPrivilegeEscalation and capabilities drop ALL", where)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: want cpu and memory requests and a memory limit", where)
	}
	sub, config := checkCommandLine(t, where, c.Args)
	mounts := d.k8sMounts(t, where, tr, o, c)
	cfg, _ := d.checkMountedConfig(t, where, sub, config, mounts, k8sEnv(t, where, o, c, 0))
	if host, _, err := net.SplitHostPort(setting(cfg, "admin_listen")); err == nil && host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("%s: admin_listen %s: the kubelet probes the pod's address, not %s", where, setting(cfg, "admin_listen"), host)
	}
	for name, probe := range map[string]*k8sProbe{"livenessProbe /healthz": c.LivenessProbe, "readinessProbe /readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s: no %s", where, name)
			continue
		}
		_, path, _ := strings.Cut(name, " ")
		port, _ := c.port(probe.HTTPGet.Port)
		checkAdminURL(t, where+" "+name, cfg, port, probe.HTTPGet.Path, path)
	}
	for _, port := range listenPorts(cfg) {
		if _, ok := c.port(port); !ok {
			t.Errorf("%s: its config listens on %s, which is no containerPort", where, port)
		}
	}
	return cfg, sub
}

// k8sMounts returns what a container's volumeMounts show: ConfigMaps and
// Secrets as folders of copies of their files (secrets 0600), volumes as
// empty writable folders.
func (d *deployCheck) k8sMounts(t *testing.T, where string, tr *k8sTree, o *k8sObject, c k8sContainer) []mount {
	claims := map[string]bool{}
	for _, v := range o.Spec.VolumeClaimTemplates {
		claims[v.Metadata.Name] = true
	}
	var mounts []mount
	for _, vm := range c.VolumeMounts {
		dir := filepath.Join(d.tmp, "k8s", o.ns, o.Metadata.Name, vm.Name)
		i := slices.IndexFunc(o.Spec.Template.Spec.Volumes, func(v k8sVolume) bool { return v.Name == vm.Name })
		m := mount{target: vm.MountPath, source: filepath.Join(dir, vm.SubPath)}
		var key string
		mode := os.FileMode(0o644)
		switch {
		case claims[vm.Name]:
			m.writable = true
		case i < 0:
			t.Errorf("%s: volumeMount %s names no volume", where, vm.Name)
			continue
		case o.Spec.Template.Spec.Volumes[i].ConfigMap != nil:
			key = o.ns + "/configmap/" + o.Spec.Template.Spec.Volumes[i].ConfigMap.Name
		case o.Spec.Template.Spec.Volumes[i].Secret != nil:
			key, mode = o.ns+"/secret/"+o.Spec.Template.Spec.Volumes[i].Secret.SecretName, 0o600
		default: // a claim or an emptyDir
			m.writable = true
		}
		if key != "" {
			files, ok := tr.files[key]
			if !ok {
				t.Errorf("%s: volume %s: no %s is generated in deploy/k8s or made in deploy/README.md", where, vm.Name, key)
				continue
			}
			for name, path := range files {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
					t.Fatal(err)
				}
				d.copies[filepath.Join(dir, name)] = path
			}
		}
		mounts = append(mounts, m)
	}
	return mounts
}

// selected reports whether an object of kind in ns selects pods with
// labels.
func (tr *k8sTree) selected(ns, kind string, labels map[string]string) bool {
	return slices.ContainsFunc(tr.objects, func(o *k8sObject) bool {
		return o.ns == ns && o.Kind == kind && o.selects(labels)
	})
}

// selects reports whether o's selector selects pods with labels.
func (o *k8sObject) selects(labels map[string]string) bool {
	sel := o.Spec.Selector
	if ml, ok := sel["matchLabels"].(map[string]any); ok {
		sel = ml
	}
	for k, v := range sel {
		if labels[k] != fmt.Sprint(v) {
			return false
		}
	}
	return len(sel) > 0
}

// checkK8sAddresses checks that every address a config dials, and every
// witness in the policy the README makes, is a Service there, selecting
// pods.
func (d *deployCheck) checkK8sAddresses(t *testing.T, tr *k8sTree, cfgs map[string]map[string]any, readme string) {
	// service: addr is <service>.<namespace>.svc:<port>, or
	// <pod>.<service>.<namespace>.svc:<port> for a pod of a StatefulSet
	// whose headless Service that is.
	service := func(addr string) bool {
		host, port, err := net.SplitHostPort(addr)
		labels := strings.Split(strings.TrimSuffix(host, ".cluster.local"), ".")
		if err != nil || len(labels) < 3 || len(labels) > 4 || labels[len(labels)-1] != "svc" {
			return false
		}
		name, ns := labels[len(labels)-3], labels[len(labels)-2]
		if len(labels) == 4 && !slices.ContainsFunc(tr.objects, func(o *k8sObject) bool {
			pod, ordinal, ok := strings.Cut(labels[0], o.Metadata.Name+"-")
			n, err := strconv.Atoi(ordinal)
			return o.Kind == "StatefulSet" && o.ns == ns && o.Spec.ServiceName == name && ok && pod == "" && err == nil &&
				o.Spec.Replicas != nil && n >= 0 && n < *o.Spec.Replicas
		}) {
			return false
		}
		return slices.ContainsFunc(tr.objects, func(o *k8sObject) bool {
			if o.Kind != "Service" || o.ns != ns || o.Metadata.Name != name || (len(labels) == 4 && o.Spec.ClusterIP != "None") {
				return false
			}
			for _, p := range o.Spec.Ports {
				if strconv.Itoa(p.Port) == port {
					return true
				}
			}
			return false
		})
	}
	for ns, cfg := range cfgs {
		addrs := dialed(cfg)
		endpoints, _, _, _ := electionOf(cfg)
		for _, e := range endpoints {
			addrs = append(addrs, urlHostPort(e))
		}
		for _, addr := range addrs {
			if !service(addr) {
				t.Errorf("k8s %s: its config dials %s, which is no Service's port (<service>.<namespace>.svc:<port>, or <pod>.<service>.<namespace>.svc:<port> of a StatefulSet's pod)", ns, addr)
			}
		}
	}
	m := regexp.MustCompile(`WITNESS_URLS='([^']*)'.*setup-keys\.sh`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatalf("deploy/README.md: no WITNESS_URLS='...' ... setup-keys.sh line for Kubernetes")
	}
	for _, u := range strings.Fields(m[1]) {
		if !service(urlHostPort(u)) {
			t.Errorf("deploy/README.md: the policy for Kubernetes names the witness %s, which is no Service's port", u)
		}
	}
	// Every Service's target ports are ports of the pods it selects.
	for _, o := range tr.objects {
		if o.Kind != "Service" {
			continue
		}
		found := false
		for _, w := range tr.objects {
			if (w.Kind == "Deployment" || w.Kind == "StatefulSet") && w.ns == o.ns && o.selects(w.Spec.Template.Metadata.Labels) {
				found = true
				for _, p := range o.Spec.Ports {
					if _, ok := w.Spec.Template.Spec.Containers[0].port(p.TargetPort); !ok {
						t.Errorf("k8s Service %s/%s: targetPort %v is no port of %s", o.ns, o.Metadata.Name, p.TargetPort, w.Metadata.Name)
					}
				}
			}
		}
		if !found {
			t.Errorf("k8s Service %s/%s selects no pods", o.ns, o.Metadata.Name)
		}
	}
}

// readmeInstalls reads deploy/README.md's `install` commands that install
// files from deploy/ or $OUT (setup-keys.sh's folder, here out): each
// destination's host file, the first installed there, and the files
// installed there instead on other machines (a config for several).
func readmeInstalls(t *testing.T, readme, repo, out string) (installed map[string]string, instead map[string][]string) {
	installed, instead = map[string]string{}, map[string][]string{}
	put := func(dest, src string) {
		if _, ok := installed[dest]; ok {
			instead[dest] = append(instead[dest], src)
		} else {
			installed[dest] = src
		}
	}
	for _, line := range strings.Split(readme, "\n") {
		args := strings.Fields(strings.ReplaceAll(strings.TrimSpace(line), `"$OUT"`, out))
		if len(args) == 0 || args[0] != "install" || slices.Contains(args, "-d") {
			continue
		}
		var dir string
		var sources []string
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "-m":
				i++
			case "-t":
				i++
				dir = args[i]
			case "-D":
			default:
				sources = append(sources, args[i])
			}
		}
		dest := ""
		if dir == "" {
			dest, sources = sources[len(sources)-1], sources[:len(sources)-1]
		}
		for _, src := range sources {
			if strings.HasPrefix(src, "deploy/") {
				src = filepath.Join(filepath.Dir(repo), src)
			} else if !strings.HasPrefix(src, out) {
				continue // a binary built on the spot
			}
			matches, _ := filepath.Glob(src)
			if len(matches) == 0 {
				t.Errorf("deploy/README.md: %q: %s does not exist", strings.TrimSpace(line), src)
			}
			for _, m := range matches {
				if dir != "" {
					put(filepath.Join(dir, filepath.Base(m)), m)
				} else {
					put(dest, m)
				}
			}
		}
	}
	return installed, instead
}

// systemdUnit is a unit file's settings (with its drop-ins'), by
// "Section.Key", each in order.
type systemdUnit map[string][]string

func readUnit(t *testing.T, paths ...string) systemdUnit {
	u := systemdUnit{}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		section := ""
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "["):
				section = strings.Trim(line, "[]")
			default:
				k, v, _ := strings.Cut(line, "=")
				u[section+"."+k] = append(u[section+"."+k], v)
			}
		}
		f.Close()
	}
	return u
}

// systemdSandbox is what every unit must say.
var systemdSandbox = []string{
	"DynamicUser=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=", "ProtectSystem=strict",
	"ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "SystemCallFilter=@system-service",
	"SystemCallArchitectures=native", "RestrictNamespaces=yes", "UMask=0077",
}

func (d *deployCheck) checkSystemd(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(d.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	installed, instead := readmeInstalls(t, string(readme), d.repo, d.out)
	units, err := filepath.Glob(filepath.Join(d.repo, "systemd", "*.service"))
	if err != nil || len(units) != 3 {
		t.Fatalf("deploy/systemd: %d units (%v), want serve, witness and monitor", len(units), err)
	}
	verify := filepath.Join(d.tmp, "systemd-verify")
	for _, path := range units {
		name := filepath.Base(path)
		dropIns, _ := filepath.Glob(path + ".d/*.conf")
		for _, f := range append([]string{path}, dropIns...) {
			dest := filepath.Join("/etc/systemd/system", strings.TrimPrefix(f, filepath.Join(d.repo, "systemd")))
			if installed[dest] != f {
				t.Errorf("deploy/README.md does not install %s as %s", f, dest)
			}
			copyFile(t, f, filepath.Join(verify, strings.TrimPrefix(f, filepath.Join(d.repo, "systemd"))))
		}
		d.checkUnit(t, name, readUnit(t, append([]string{path}, dropIns...)...), installed, instead)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("no systemd-analyze: the units not verified")
		return
	}
	// verify wants ExecStart's binary to exist: this test's.
	for _, path := range units {
		copied := filepath.Join(verify, filepath.Base(path))
		text, err := os.ReadFile(copied)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copied, bytes.ReplaceAll(text, []byte("/usr/local/bin/govlog "), []byte(d.bin+" ")), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(analyze, "verify", copied).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(path), err, out)
		}
	}
}

// checkUnit checks one unit: its command line, its config with its
// credentials and installed files (and each config installed instead on
// other machines), and its sandbox.
func (d *deployCheck) checkUnit(t *testing.T, name string, u systemdUnit, installed map[string]string, instead map[string][]string) {
	where := "systemd " + name
	for _, want := range systemdSandbox {
		k, v, _ := strings.Cut(want, "=")
		if !slices.Contains(u["Service."+k], v) {
			t.Errorf("%s: no %s", where, want)
		}
	}
	if len(u["Service.RestrictAddressFamilies"]) == 0 {
		t.Errorf("%s: no RestrictAddressFamilies", where)
	}
	exec := strings.Fields(strings.Join(u["Service.ExecStart"], " "))
	if len(exec) == 0 || exec[0] != "/usr/local/bin/govlog" {
		t.Errorf("%s: ExecStart %q: want /usr/local/bin/govlog, where deploy/README.md installs it", where, exec)
		return
	}
	sub, config := checkCommandLine(t, where, exec[1:])
	var mounts []mount
	for dest, src := range installed {
		mounts = append(mounts, mount{target: dest, source: src})
	}
	for _, dir := range u["Service.StateDirectory"] {
		mounts = append(mounts, mount{target: "/var/lib/" + dir, source: filepath.Join(d.tmp, "systemd", name, "state"), writable: true})
	}
	// Credentials: copies, as systemd makes them, of the files the README
	// installs where LoadCredential reads them.
	creds := filepath.Join(d.tmp, "systemd", name, "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range u["Service.LoadCredential"] {
		id, path, _ := strings.Cut(c, ":")
		src, ok := installed[path]
		if !ok {
			t.Errorf("%s: LoadCredential=%s: deploy/README.md installs nothing at %s", where, c, path)
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(creds, id), b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	mounts = append(mounts, mount{target: "/run/credentials/" + name, source: creds})
	d.checkMountedConfig(t, where, sub, config, mounts, nil)
	for _, src := range instead[config] {
		alt := append([]mount{{target: config, source: src}}, mounts...)
		cfg, _ := d.checkMountedConfig(t, where+" with "+filepath.Base(src), sub, config, alt, nil)
		if _, _, advertise, ok := electionOf(cfg); ok && advertise != setting(cfg, "listen") {
			t.Errorf("%s with %s: election.advertise %q is not its listen address %q, where the others reach it", where, filepath.Base(src), advertise, setting(cfg, "listen"))
		}
	}
}

// checkREADMECommands checks every govlog command line in
// deploy/README.md against the command tree.
func (d *deployCheck) checkREADMECommands(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(d.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	n := 0
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "    ") { // not a code block
			continue
		}
		line := strings.TrimSpace(lines[i])
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(lines[i])
		}
		if !strings.HasPrefix(line, "govlog ") {
			continue
		}
		args, err := shellWords(line)
		if err != nil {
			t.Errorf("deploy/README.md: %q: %v", line, err)
			continue
		}
		checkCommandLine(t, "deploy/README.md", args[1:])
		n++
	}
	if n == 0 {
		t.Error("deploy/README.md: no govlog command lines found")
	}
}

// shellWords splits a command line as a shell would, for the quoting the
// README uses: single and double quotes, adjacent quoted parts joined.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c", quote)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// checkHealthcheck builds govlog-healthcheck as the Dockerfile does and
// asks a witness, with the audit court's key setup-keys.sh made, for
// /readyz.
func (d *deployCheck) checkHealthcheck(t *testing.T) {
	probe := filepath.Join(d.tmp, "govlog-healthcheck")
	if out, err := exec.Command("go", "build", "-o", probe, filepath.Join(d.repo, "docker", "healthcheck.go")).CombinedOutput(); err != nil {
		t.Fatalf("go build deploy/docker/healthcheck.go: %v\n%s", err, out)
	}
	admin := freeAddr(t)
	config := filepath.Join(d.tmp, "healthcheck-witness.yaml")
	text := fmt.Sprintf("listen: %s\nadmin_listen: %s\nkey: %s\ndatabase: %s\nlogs:\n  - origin: gov.example/registry\n    vkey: %s\n",
		freeAddr(t), admin, filepath.Join(d.out, "witness-court", "witness.key"), filepath.Join(d.tmp, "healthcheck-witness.db"),
		filepath.Join(d.out, "public", "registry.vkey"))
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	witness := exec.Command(d.bin, "witness", "-c", config)
	var log lockedBuffer
	witness.Stdout, witness.Stderr = &log, &log
	if err := witness.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		witness.Process.Signal(os.Interrupt)
		witness.Wait()
	}()
	ask := func(path string) (string, error) {
		out, err := exec.Command(probe, "http://"+admin+path).CombinedOutput()
		return string(out), err
	}
	var out string
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if out, err = ask("/readyz"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || out != "ready\n" {
		t.Fatalf("govlog-healthcheck /readyz: %v: %q\nwitness:\n%s", err, out, log.String())
	}
	if out, err := ask("/no-such-page"); err == nil || !strings.Contains(out, "404") {
		t.Errorf("govlog-healthcheck /no-such-page: %v: %q, want exit 1 with the 404", err, out)
	}
}

// checkEveryConfigChecked fails for a daemon config in deploy/ that no
// part of TestDeploy ran --check on.
func (d *deployCheck) checkEveryConfigChecked(t *testing.T) {
	notConfigs := map[string]bool{"compose.yaml": true, "kustomization.yaml": true, "resources.yaml": true, "etcd.yaml": true}
	err := filepath.WalkDir(d.repo, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.repo, path)
		switch {
		case e.IsDir() && (rel == "longrun" || rel == filepath.Join("compose", "secrets") || rel == filepath.Join("compose", "state")):
			return filepath.SkipDir
		case e.IsDir() || filepath.Ext(path) != ".yaml" || notConfigs[e.Name()]:
		case !d.checked[filepath.ToSlash(rel)]:
			t.Errorf("deploy/%s: no part of TestDeploy ran --check on it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// electionOf returns a serve config's election block: its etcd endpoints,
// prefix and advertise address, and whether it has one.
func electionOf(cfg map[string]any) (endpoints []string, prefix, advertise string, ok bool) {
	e, ok := cfg["election"].(map[string]any)
	if !ok {
		return nil, "", "", false
	}
	list, _ := e["etcd"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		endpoints = append(endpoints, s)
	}
	prefix, _ = e["prefix"].(string)
	advertise, _ = e["advertise"].(string)
	return endpoints, cmp.Or(prefix, "/govlog"), advertise, true
}

// etcdImage is an etcd release image of 3.5 or 3.6, pinned.
var etcdImage = regexp.MustCompile(`^(gcr\.io/etcd-development/etcd|quay\.io/coreos/etcd):v3\.[56]\.\d+$`)

// etcdMember is what TestDeploy reads of an etcd member's command line.
type etcdMember struct {
	name           string
	dataDir        string
	listenClient   []string // ports
	listenMetrics  []string // ports
	advertise      []string // client URLs
	advertisePeer  []string
	initialCluster string
}

// parseEtcdArgs parses an etcd command line (after the binary) with etcd's
// own flags (the embed package's, and etcdmain's few beside them, of the
// etcd in go.mod: the image's 3.5 or 3.6 has the same ones for what
// deploy/ uses) and checks the result with etcd's own Validate.
func parseEtcdArgs(args []string) (etcdMember, error) {
	cfg := embed.NewConfig()
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.AddFlags(fs)
	state := fs.String("initial-cluster-state", embed.ClusterStateFlagNew, "")
	fs.String("config-file", "", "")
	fs.String("discovery-fallback", "exit", "")
	fs.String("v2-deprecation", "", "")
	fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		return etcdMember{}, err
	}
	if fs.NArg() > 0 {
		return etcdMember{}, fmt.Errorf("%q is not a flag", fs.Arg(0))
	}
	// As etcdmain reads them.
	cfg.ListenPeerUrls = flags.UniqueURLsFromFlag(fs, "listen-peer-urls")
	cfg.AdvertisePeerUrls = flags.UniqueURLsFromFlag(fs, "initial-advertise-peer-urls")
	cfg.ListenClientUrls = flags.UniqueURLsFromFlag(fs, "listen-client-urls")
	cfg.AdvertiseClientUrls = flags.UniqueURLsFromFlag(fs, "advertise-client-urls")
	cfg.ListenMetricsUrls = flags.UniqueURLsFromFlag(fs, "listen-metrics-urls")
	cfg.ClusterState = *state
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if err := cfg.Validate(); err != nil {
		return etcdMember{}, err
	}
	m := etcdMember{name: cfg.Name, dataDir: cfg.Dir, initialCluster: cfg.InitialCluster}
	for _, u := range cfg.ListenClientUrls {
		m.listenClient = append(m.listenClient, u.Port())
	}
	for _, u := range cfg.ListenMetricsUrls {
		m.listenMetrics = append(m.listenMetrics, u.Port())
	}
	for _, u := range cfg.AdvertiseClientUrls {
		m.advertise = append(m.advertise, u.String())
	}
	for _, u := range cfg.AdvertisePeerUrls {
		m.advertisePeer = append(m.advertisePeer, u.String())
	}
	// The member is in the cluster it starts, at the peer URLs it
	// advertises (etcd checks it only when it starts).
	var own []string
	for _, member := range strings.Split(cfg.InitialCluster, ",") {
		if name, u, _ := strings.Cut(member, "="); name == m.name {
			own = append(own, u)
		}
	}
	slices.Sort(own)
	if !slices.Equal(own, slices.Sorted(slices.Values(m.advertisePeer))) {
		return m, fmt.Errorf("--initial-cluster %s gives the member %q the peer URLs %v, but it advertises %v", cfg.InitialCluster, m.name, own, m.advertisePeer)
	}
	if m.dataDir == "" || !strings.HasPrefix(m.dataDir, "/") {
		return m, fmt.Errorf("--data-dir %q: want an absolute path, on a volume", m.dataDir)
	}
	return m, nil
}

// checkComposeEtcd checks the etcd service: a pinned release, the same
// confinement as govlog's containers, its data on a writable volume, its
// flags etcd's, and a healthcheck asking its clients' port.
func checkComposeEtcd(t *testing.T, where, dir string, s composeService) etcdMember {
	if !etcdImage.MatchString(s.Image) {
		t.Errorf("%s: image %q: want an etcd release of 3.5 or 3.6, pinned (%s)", where, s.Image, etcdImage)
	}
	if u, _, _ := strings.Cut(s.User, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("%s: user %q: want a non-root user", where, s.User)
	}
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("%s: want read_only, cap_drop: [ALL] and no-new-privileges", where)
	}
	if len(s.Command) == 0 || s.Command[0] != "/usr/local/bin/etcd" {
		t.Errorf("%s: command %q: want /usr/local/bin/etcd, the image's", where, s.Command)
		return etcdMember{}
	}
	m, err := parseEtcdArgs(s.Command[1:])
	if err != nil {
		t.Errorf("%s: %v (etcd %s)", where, err, strings.Join(s.Command[1:], " "))
		return m
	}
	mounts := composeVolumes(t, where, dir, filepath.Join(t.TempDir(), "volumes"), s)
	if _, vol, ok := resolve(mounts, m.dataDir); !ok || !vol.writable {
		t.Errorf("%s: --data-dir %s is on no writable volume", where, m.dataDir)
	}
	test := s.Healthcheck.Test
	var port string
	if len(test) > 2 && test[0] == "CMD" && test[1] == "/usr/local/bin/etcdctl" {
		for _, a := range test[2:] {
			if e, ok := strings.CutPrefix(a, "--endpoints="); ok {
				port = urlPort(e)
			}
		}
	}
	if !slices.Contains(m.listenClient, port) || !slices.Contains(test, "health") {
		t.Errorf("%s: healthcheck %q: want [CMD, /usr/local/bin/etcdctl, --endpoints=<its clients' URL>, endpoint, health]", where, test)
	}
	return m
}

// urlPort is the port of a URL, "" if it has none.
func urlPort(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Port()
}

// checkComposeElection checks the serve services: two or more, each with
// an election block naming the etcd service as it advertises itself, one
// prefix, each advertising its own service name and gRPC port, started
// after etcd is healthy and, all but the first, after a serve is.
func checkComposeElection(t *testing.T, c composeFile, serves []string, cfgs map[string]map[string]any, etcds map[string]etcdMember) {
	if len(serves) < 2 {
		t.Errorf("compose: %d services run govlog serve (%v), want two or more, elected through etcd", len(serves), serves)
	}
	healthy := func(s composeService, dep string) bool {
		m, _ := s.DependsOn[dep].(map[string]any)
		return m["condition"] == "service_healthy"
	}
	prefixes := map[string]bool{}
	advertised := map[string]string{}
	first := 0
	for _, name := range serves {
		where := "compose " + name
		cfg, s := cfgs[name], c.Services[name]
		endpoints, prefix, advertise, ok := electionOf(cfg)
		if !ok {
			t.Errorf("%s: no election block: several serve processes on one database must be elected", where)
			continue
		}
		prefixes[prefix] = true
		if _, port, _ := net.SplitHostPort(setting(cfg, "listen")); advertise != name+":"+port {
			t.Errorf("%s: election.advertise %q, want %s:%s (its service name and gRPC port)", where, advertise, name, port)
		}
		if other, ok := advertised[advertise]; ok {
			t.Errorf("%s: advertises %s, as %s does", where, advertise, other)
		}
		advertised[advertise] = name
		if len(endpoints) == 0 {
			t.Errorf("%s: election.etcd names no endpoint", where)
		}
		for _, e := range endpoints {
			u, err := url.Parse(e)
			m, isEtcd := etcds[u.Hostname()]
			if err != nil || !isEtcd || !slices.Contains(m.advertise, e) || !slices.Contains(m.listenClient, u.Port()) {
				t.Errorf("%s: election.etcd %s is no etcd service's client URL (as it listens and advertises)", where, e)
			} else if !healthy(s, u.Hostname()) {
				t.Errorf("%s: starts before %s is healthy", where, u.Hostname())
			}
		}
		if !slices.ContainsFunc(serves, func(other string) bool { return healthy(s, other) }) {
			first++
		}
	}
	if len(prefixes) > 1 {
		t.Errorf("compose: the serve services' election prefixes differ (%v): they would not elect one of them", prefixes)
	}
	// On an empty database the first serve makes the logs' Trillian trees.
	if first != 1 {
		t.Errorf("compose: %d serve services start without waiting for another to be healthy, want exactly one (two starting at once on an empty database make two trees for a log)", first)
	}
}

// checkComposeREADMEPorts checks that each serve service publishes its
// gRPC port on the host, and that the ports deploy/README.md sends
// commands to (--server 127.0.0.1:PORT) are those, every one of them.
func (d *deployCheck) checkComposeREADMEPorts(t *testing.T, c composeFile, serves []string, cfgs map[string]map[string]any) {
	readme, err := os.ReadFile(filepath.Join(d.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]string{} // host port -> serve
	for _, name := range serves {
		_, grpcPort, _ := net.SplitHostPort(setting(cfgs[name], "listen"))
		found := false
		for _, p := range c.Services[name].Ports {
			if parts := strings.Split(p, ":"); len(parts) == 3 && parts[2] == grpcPort {
				published[parts[1]], found = name, true
			}
		}
		if !found {
			t.Errorf("compose %s: does not publish its gRPC port %s on the host (127.0.0.1:<port>:%s)", name, grpcPort, grpcPort)
		}
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`--server 127\.0\.0\.1:(\d+)`).FindAllStringSubmatch(string(readme), -1) {
		used[m[1]] = true
		if published[m[1]] == "" {
			t.Errorf("deploy/README.md: --server 127.0.0.1:%s, where no compose serve publishes its gRPC port", m[1])
		}
	}
	for port, name := range published {
		if !used[port] {
			t.Errorf("deploy/README.md: no command reaches compose's %s at --server 127.0.0.1:%s", name, port)
		}
	}
}

// checkK8sEtcd checks an etcd StatefulSet's container: a pinned release,
// confined as govlog's are, each member's flags (with its pod's name)
// etcd's, one cluster of every replica by the names their headless Service
// gives them, data on the pod's own volume, and probes on its metrics or
// clients' port. It returns the members.
func (d *deployCheck) checkK8sEtcd(t *testing.T, where string, tr *k8sTree, o *k8sObject, c k8sContainer) []etcdMember {
	if !etcdImage.MatchString(c.Image) {
		t.Errorf("%s: image %q: want an etcd release of 3.5 or 3.6, pinned (%s)", where, c.Image, etcdImage)
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: want readOnlyRootFilesystem, no allowPrivilegeEscalation and capabilities drop ALL", where)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: want cpu and memory requests and a memory limit", where)
	}
	if o.Kind != "StatefulSet" || o.Spec.Replicas == nil || *o.Spec.Replicas%2 == 0 {
		t.Errorf("%s: want a StatefulSet of an odd number of members", where)
		return nil
	}
	if *o.Spec.Replicas > 1 && o.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("%s: podManagementPolicy %q: want Parallel (in order, the first member waits to be ready, which it is only once a majority runs)", where, o.Spec.PodManagementPolicy)
	}
	if !slices.ContainsFunc(tr.objects, func(s *k8sObject) bool {
		return s.Kind == "Service" && s.ns == o.ns && s.Metadata.Name == o.Spec.ServiceName && s.Spec.ClusterIP == "None" && s.Spec.PublishNotReadyAddresses
	}) {
		t.Errorf("%s: serviceName %q: want a headless Service (clusterIP: None) with publishNotReadyAddresses: members must find each other before they are ready", where, o.Spec.ServiceName)
	}
	if len(c.Command) != 1 || c.Command[0] != "/usr/local/bin/etcd" {
		t.Errorf("%s: command %q: want [/usr/local/bin/etcd], the image's", where, c.Command)
		return nil
	}
	var members []etcdMember
	cluster := ""
	for i := range *o.Spec.Replicas {
		env := k8sEnv(t, where, o, c, i)
		args := make([]string, len(c.Args))
		for j, a := range c.Args {
			args[j] = regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(a, func(v string) string {
				name := v[2 : len(v)-1]
				if _, ok := env[name]; !ok {
					t.Errorf("%s: %s names %s, which is not in its env", where, a, name)
				}
				return env[name]
			})
		}
		m, err := parseEtcdArgs(args)
		if err != nil {
			t.Errorf("%s: member %d: %v (etcd %s)", where, i, err, strings.Join(args, " "))
			continue
		}
		pod := fmt.Sprintf("%s-%d", o.Metadata.Name, i)
		if m.name != pod {
			t.Errorf("%s: member %d is named %q, want its pod's name %s", where, i, m.name, pod)
		}
		if cluster != "" && m.initialCluster != cluster {
			t.Errorf("%s: member %d starts the cluster %s, another %s", where, i, m.initialCluster, cluster)
		}
		cluster = m.initialCluster
		for _, u := range append(slices.Clone(m.advertise), m.advertisePeer...) {
			if host := urlHostPort(u); !strings.HasPrefix(host, pod+"."+o.Spec.ServiceName+"."+o.ns+".svc:") {
				t.Errorf("%s: member %d advertises %s, want its name %s.%s.%s.svc", where, i, u, pod, o.Spec.ServiceName, o.ns)
			}
		}
		members = append(members, m)
	}
	if n := len(strings.Split(cluster, ",")); cluster != "" && n != *o.Spec.Replicas {
		t.Errorf("%s: --initial-cluster names %d members, but there are %d replicas", where, n, *o.Spec.Replicas)
	}
	if len(members) == 0 {
		return nil
	}
	if !c.onClaim(o, members[0].dataDir) {
		t.Errorf("%s: --data-dir %s is on no volume of the pod's own (volumeClaimTemplates)", where, members[0].dataDir)
	}
	for name, probe := range map[string]*k8sProbe{"livenessProbe /livez": c.LivenessProbe, "readinessProbe /readyz": c.ReadinessProbe} {
		_, path, _ := strings.Cut(name, " ")
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path {
			t.Errorf("%s: want a %s", where, name)
			continue
		}
		if port, _ := c.port(probe.HTTPGet.Port); !slices.Contains(members[0].listenMetrics, port) && !slices.Contains(members[0].listenClient, port) {
			t.Errorf("%s: %s asks port %s, where etcd does not listen", where, name, port)
		}
	}
	return members
}

// checkK8sServe checks the serve workload: a StatefulSet (each pod its
// own checkpoint_dir and tiles_dir) of two or more pods, updated one at a
// time and started in order, elected through the etcd members, each pod
// advertising its own address, with a PodDisruptionBudget that keeps one.
func (d *deployCheck) checkK8sServe(t *testing.T, where string, tr *k8sTree, o *k8sObject, c k8sContainer, cfg map[string]any, etcds []etcdMember) {
	replicas := 0
	if o.Spec.Replicas != nil {
		replicas = *o.Spec.Replicas
	}
	if o.Kind != "StatefulSet" || replicas < 2 {
		t.Errorf("%s: serve runs as a %s of %d replicas: want a StatefulSet (each pod its own checkpoint_dir and tiles_dir) of two or more", where, o.Kind, replicas)
	}
	if u := o.Spec.UpdateStrategy.Type; u != "" && u != "RollingUpdate" {
		t.Errorf("%s: updateStrategy %q: want RollingUpdate, one pod at a time", where, u)
	}
	if p := o.Spec.PodManagementPolicy; p != "" && p != "OrderedReady" {
		t.Errorf("%s: podManagementPolicy %q: want OrderedReady (two pods starting at once on an empty database make two trees for a log)", where, p)
	}
	for _, key := range []string{"checkpoint_dir", "tiles_dir"} {
		if dir := setting(cfg, key); !c.onClaim(o, dir) {
			t.Errorf("%s: %s %q is on no volume of the pod's own (volumeClaimTemplates)", where, key, dir)
		}
	}
	endpoints, _, advertise, ok := electionOf(cfg)
	if !ok {
		t.Errorf("%s: no election block: several serve pods on one database must be elected", where)
		return
	}
	_, grpcPort, _ := net.SplitHostPort(setting(cfg, "listen"))
	ipVar := fieldRefEnv(c, "status.podIP")
	if ipVar == "" || (advertise != "${"+ipVar+"}:"+grpcPort && advertise != "[${"+ipVar+"}]:"+grpcPort) {
		t.Errorf("%s: election.advertise %q: want ${POD_IP}:%s, the pod's address from the downward API (env POD_IP, fieldRef status.podIP)", where, advertise, grpcPort)
	}
	var advertised []string
	for _, m := range etcds {
		advertised = append(advertised, m.advertise...)
	}
	if len(endpoints) == 0 || len(etcds) == 0 {
		t.Errorf("%s: election.etcd %v, etcd members %d: want every member's client URL", where, endpoints, len(etcds))
	}
	if !slices.Equal(slices.Sorted(slices.Values(endpoints)), slices.Sorted(slices.Values(advertised))) {
		t.Errorf("%s: election.etcd %v, want the client URLs the etcd members advertise: %v", where, endpoints, advertised)
	}
	pdb := slices.IndexFunc(tr.objects, func(p *k8sObject) bool {
		return p.Kind == "PodDisruptionBudget" && p.ns == o.ns && p.selects(o.Spec.Template.Metadata.Labels)
	})
	if pdb < 0 || fmt.Sprint(tr.objects[pdb].Spec.MinAvailable) != "1" {
		t.Errorf("%s: want a PodDisruptionBudget of minAvailable 1 selecting its pods", where)
	}
}
