package main

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestParseRuntimeOptions(t *testing.T) {
	opts, err := parseRuntimeOptions(map[string]any{"nodeargs": "--import=tsx  --enable-source-maps", "typescript": false})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opts.NodeArgs, []string{"--import=tsx", "--enable-source-maps"}) || opts.TypeScript {
		t.Fatalf("got %+v", opts)
	}
	defaults, err := parseRuntimeOptions(nil)
	if err != nil || !defaults.TypeScript || defaults.NodeArgs != nil {
		t.Fatalf("defaults: %+v %v", defaults, err)
	}
	for _, bad := range []map[string]any{{"nodeargs": 3.0}, {"typescript": "no"}, {"packagemanager": "yarn"}} {
		if _, err := parseRuntimeOptions(bad); err == nil {
			t.Errorf("%v: expected an error", bad)
		}
	}
}

func TestNodeRunArgs(t *testing.T) {
	opts := runtimeOptions{NodeArgs: []string{"--import=tsx"}}
	got := nodeRunArgs(opts, programRun{
		RunScript: "/p/node_modules/@pulumi/pulumi/cmd/run", Monitor: "127.0.0.1:1", Engine: "127.0.0.1:2",
		Project: "nkp", Stack: "dev", Organization: "organization", Pwd: "/p", RootDirectory: "/p",
		Program: "/p/stacks/index.ts", DryRun: true, Parallel: 16, Tracing: "http://zipkin", Args: []string{"a"},
	})
	want := []string{
		"--import=tsx", "/p/node_modules/@pulumi/pulumi/cmd/run",
		"--monitor=127.0.0.1:1", "--engine=127.0.0.1:2", "--project=nkp", "--stack=dev", "--pwd=/p", "--parallel=16",
		"--organization=organization", "--root-directory=/p", "--dry-run", "--tracing=http://zipkin",
		"/p/stacks/index.ts", "a",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// An update (not a preview) passes no --dry-run; optional flags are left out when empty.
	got = nodeRunArgs(runtimeOptions{}, programRun{RunScript: "run", Program: "."})
	for _, a := range got {
		if a == "--dry-run" || strings.HasPrefix(a, "--organization") || strings.HasPrefix(a, "--tracing") {
			t.Errorf("unexpected %q in %q", a, got)
		}
	}
	if got[len(got)-1] != "." {
		t.Errorf("the program must come last, got %q", got)
	}
}

func TestProgramPath(t *testing.T) {
	cases := []struct{ dir, entry, pwd, want string }{
		{"/p", ".", "/p", "."},
		{"/p", "", "/p/", "."},
		{"/p/stacks", ".", "/p", "/p/stacks"},
		{"/p", "stacks/index.ts", "/p", "/p/stacks/index.ts"},
		{"/p", "/abs/index.ts", "/p", "/abs/index.ts"},
	}
	for _, c := range cases {
		if got := programPath(c.dir, c.entry, c.pwd); got != c.want {
			t.Errorf("programPath(%q, %q, %q) = %q, want %q", c.dir, c.entry, c.pwd, got, c.want)
		}
	}
}

func TestWithNodeCompileCache(t *testing.T) {
	env := withNodeCompileCache([]string{"PATH=/bin"}, "/tmp/ncc")
	if !contains(env, "NODE_COMPILE_CACHE=/tmp/ncc") || !contains(env, "PATH=/bin") {
		t.Errorf("env = %q", env)
	}
	for _, set := range []string{"NODE_COMPILE_CACHE=/mine", "NODE_DISABLE_COMPILE_CACHE=1"} {
		env = withNodeCompileCache([]string{"PATH=/bin", set}, "/tmp/ncc")
		if len(env) != 2 || contains(env, "NODE_COMPILE_CACHE=/tmp/ncc") {
			t.Errorf("with %s: env = %q (the user's setting wins)", set, env)
		}
	}
}

func TestProgramEnv(t *testing.T) {
	env, err := programEnv([]string{"PATH=/bin", "PULUMI_CONFIG=stale"},
		map[string]string{"nkp:domain": "example.com", "nkp:password": "s3cret"},
		[]string{"nkp:password"}, runtimeOptions{TypeScript: false, TSConfig: "tsconfig.pulumi.json"})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		last[k] = v // later entries win, as in exec.Cmd.Env
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(last["PULUMI_CONFIG"]), &cfg); err != nil || cfg["nkp:domain"] != "example.com" {
		t.Fatalf("PULUMI_CONFIG = %q (%v)", last["PULUMI_CONFIG"], err)
	}
	if last["PULUMI_CONFIG_SECRET_KEYS"] != `["nkp:password"]` {
		t.Errorf("PULUMI_CONFIG_SECRET_KEYS = %q", last["PULUMI_CONFIG_SECRET_KEYS"])
	}
	if last["PULUMI_NODEJS_TYPESCRIPT"] != "false" || last["PULUMI_NODEJS_TSCONFIG_PATH"] != "tsconfig.pulumi.json" || last["PATH"] != "/bin" {
		t.Errorf("env = %q", env)
	}
	// No secrets: an empty array, never null (the SDK JSON.parses it).
	env, _ = programEnv(nil, nil, nil, runtimeOptions{})
	if !contains(env, "PULUMI_CONFIG={}") || !contains(env, "PULUMI_CONFIG_SECRET_KEYS=[]") {
		t.Errorf("empty config env = %q", env)
	}
}

func TestNodePluginArgs(t *testing.T) {
	policy := nodePluginArgs(runtimeOptions{}, "analyzer", "/sdk", "/pack", []string{"-v=9", "127.0.0.1:5"})
	if !reflect.DeepEqual(policy, []string{"/sdk/cmd/run-policy-pack", "-v=9", "127.0.0.1:5", "/pack"}) {
		t.Errorf("policy pack: %q", policy)
	}
	provider := nodePluginArgs(runtimeOptions{NodeArgs: []string{"--import=tsx"}}, "resource", "/sdk", "/prov", []string{"127.0.0.1:5"})
	if !reflect.DeepEqual(provider, []string{"--import=tsx", "/sdk/cmd/run-plugin", "/prov", "127.0.0.1:5"}) {
		t.Errorf("provider: %q", provider)
	}
}

func TestRunResponse(t *testing.T) {
	if r := runResponse(nil); r.Error != "" || r.Bail {
		t.Errorf("success: %v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 32").Run()); !r.Bail || r.Error != "" {
		t.Errorf("exit 32 must bail (the runner printed the error): %v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 3").Run()); r.Bail || !strings.Contains(r.Error, "code 3") {
		t.Errorf("exit 3: %v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "kill -9 $$").Run()); !strings.Contains(r.Error, "signal") {
		t.Errorf("killed: %v", r)
	}
	if r := runResponse(exec.Command("/nonexistent/node").Run()); !strings.Contains(r.Error, "could not run") {
		t.Errorf("not started: %v", r)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
