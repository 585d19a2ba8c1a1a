package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// runtimeOptions are the `runtime.options` of Pulumi.yaml (or PulumiPolicy.yaml / PulumiPlugin.yaml) this host
// understands. Unknown options are ignored, as the CLI validates none of them.
type runtimeOptions struct {
	// NodeArgs is `nodeargs`, split on whitespace (no shell quoting), put before the runner script.
	NodeArgs []string
	// TypeScript is `typescript` (default true): the SDK's runner registers ts-node when true.
	TypeScript bool
	// TSConfig is `tsconfig`: the tsconfig.json the SDK's ts-node registration reads.
	TSConfig string
	// PackageManager is `packagemanager` (default npm); only npm is supported.
	PackageManager string
}

func parseRuntimeOptions(opts map[string]any) (runtimeOptions, error) {
	out := runtimeOptions{TypeScript: true, PackageManager: "npm"}
	if v, ok := opts["nodeargs"]; ok {
		s, ok := v.(string)
		if !ok {
			return out, fmt.Errorf("runtime option nodeargs must be a string, got %T", v)
		}
		out.NodeArgs = strings.Fields(s)
	}
	if v, ok := opts["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return out, fmt.Errorf("runtime option typescript must be true or false, got %v", v)
		}
		out.TypeScript = b
	}
	if v, ok := opts["tsconfig"]; ok {
		s, ok := v.(string)
		if !ok {
			return out, fmt.Errorf("runtime option tsconfig must be a string, got %T", v)
		}
		out.TSConfig = s
	}
	if v, ok := opts["packagemanager"]; ok {
		s, ok := v.(string)
		if !ok {
			return out, fmt.Errorf("runtime option packagemanager must be a string, got %T", v)
		}
		if s != "" && s != "npm" {
			return out, fmt.Errorf("runtime option packagemanager %q is not supported by this language host: use npm", s)
		}
	}
	return out, nil
}

// programRun is what `@pulumi/pulumi/cmd/run` needs to run a program for the engine.
type programRun struct {
	RunScript     string // absolute path of node_modules/@pulumi/pulumi/cmd/run
	Monitor       string
	Engine        string
	Project       string
	Stack         string
	Organization  string
	Pwd           string
	RootDirectory string
	Program       string // the entry point: "." (package.json's main) or a path
	DryRun        bool
	Parallel      int32
	Tracing       string
	Args          []string // the program's own arguments
}

// nodeRunArgs is the argument list of `node` for a program run: node's own arguments, the SDK's runner, its
// flags (which it parses with minimist, stopping at the first positional), the program, the program's arguments.
func nodeRunArgs(opts runtimeOptions, r programRun) []string {
	args := append([]string{}, opts.NodeArgs...)
	args = append(args, r.RunScript,
		"--monitor="+r.Monitor,
		"--engine="+r.Engine,
		"--project="+r.Project,
		"--stack="+r.Stack,
		"--pwd="+r.Pwd,
		"--parallel="+strconv.Itoa(int(r.Parallel)),
	)
	if r.Organization != "" {
		args = append(args, "--organization="+r.Organization)
	}
	if r.RootDirectory != "" {
		args = append(args, "--root-directory="+r.RootDirectory)
	}
	if r.DryRun {
		args = append(args, "--dry-run")
	}
	if r.Tracing != "" {
		args = append(args, "--tracing="+r.Tracing)
	}
	args = append(args, r.Program)
	return append(args, r.Args...)
}

// programPath is the program argument of the runner: "." lets the runner pick package.json's main (or
// index.js/index.ts) in the working directory; anything else is made absolute so it does not depend on --pwd.
func programPath(programDirectory, entryPoint, pwd string) string {
	if entryPoint == "" || entryPoint == "." {
		if filepath.Clean(programDirectory) == filepath.Clean(pwd) {
			return "."
		}
		return programDirectory
	}
	if filepath.IsAbs(entryPoint) {
		return entryPoint
	}
	return filepath.Join(programDirectory, entryPoint)
}

// programEnv is the environment the SDK reads its configuration from (runtime/config.js: PULUMI_CONFIG, a JSON
// object of "<project>:<key>" to string values, and PULUMI_CONFIG_SECRET_KEYS, a JSON array of the secret keys)
// and the TypeScript switches of cmd/run/run.js, appended to base (later entries win).
func programEnv(base []string, config map[string]string, secretKeys []string, opts runtimeOptions) ([]string, error) {
	if config == nil {
		config = map[string]string{}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	keys := append([]string{}, secretKeys...)
	sort.Strings(keys)
	secret, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	env := append([]string{}, base...)
	env = append(env,
		"PULUMI_CONFIG="+string(cfg),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secret),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(opts.TypeScript),
	)
	if opts.TSConfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.TSConfig)
	}
	return env, nil
}

// withNodeCompileCache turns on Node's on-disk compile cache (NODE_COMPILE_CACHE, Node 22.1+) for the node processes
// the host starts, unless the environment already says where it goes or turns it off (NODE_DISABLE_COMPILE_CACHE).
// Every run starts node afresh (the program, then the policy pack, twice per `pulumi up`): with the cache, V8 reuses
// the code it compiled for @pulumi/pulumi, the providers' SDKs and TypeScript instead of compiling them again, about
// 0.6 s of CPU per program run and 0.3 s per policy pack run. V8 checks each entry against the file's source.
func withNodeCompileCache(env []string, dir string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "NODE_COMPILE_CACHE=") || strings.HasPrefix(kv, "NODE_DISABLE_COMPILE_CACHE=") {
			return env
		}
	}
	return append(append([]string{}, env...), "NODE_COMPILE_CACHE="+dir)
}

// nodeCompileCacheDir is where the host keeps it: beside Node's own default for module.enableCompileCache().
func nodeCompileCacheDir() string {
	return filepath.Join(os.TempDir(), "node-compile-cache")
}

// nodePluginArgs is the argument list of `node` for a plugin written in Node.js. The SDK ships two runners with
// different argument orders: cmd/run-policy-pack takes `<engine-address> <program>` (the engine's arguments, then
// the pack's directory); cmd/run-plugin takes `<program> <args...>`.
func nodePluginArgs(opts runtimeOptions, kind, sdkDir, programDirectory string, engineArgs []string) []string {
	args := append([]string{}, opts.NodeArgs...)
	if kind == "analyzer" {
		args = append(args, filepath.Join(sdkDir, "cmd", "run-policy-pack"))
		args = append(args, engineArgs...)
		return append(args, programDirectory)
	}
	args = append(args, filepath.Join(sdkDir, "cmd", "run-plugin"), programDirectory)
	return append(args, engineArgs...)
}
