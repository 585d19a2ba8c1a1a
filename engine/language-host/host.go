package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitCodeBail is the exit code of @pulumi/pulumi's runners after they logged an error for the user
// (cmd/run/index.js: nodeJSProcessExitedAfterLoggingUserActionableMessage): the engine must not report it again.
const exitCodeBail = 32

// host is the LanguageRuntime server. Methods not written here come from UnimplementedLanguageRuntimeServer
// and answer codes.Unimplemented:
//   - RuntimeOptionsPrompts and Template (`pulumi new`): the CLI treats Unimplemented as "no prompts" and
//     "no templating";
//   - GenerateProgram, GenerateProject, GeneratePackage, Pack, Link (`pulumi convert`, `pulumi package
//     gen-sdk|pack|add`): code generation for Node.js is not part of this host; those commands fail naming the
//     method. `pulumi up|preview|refresh|destroy|stack|config|plugin|install|about` need none of them.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	version string
	tracing string

	mu      sync.Mutex
	engine  string
	running map[*exec.Cmd]struct{}
}

func newHost(engineAddress, tracing, version string) *host {
	return &host{engine: engineAddress, tracing: tracing, version: version, running: map[*exec.Cmd]struct{}{}}
}

func (h *host) engineAddress() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engine
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.mu.Lock()
		h.engine = req.GetEngineAddress()
		h.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: h.version}, nil
}

// sdkDir is the @pulumi/pulumi package the program resolves, which carries the runners.
func sdkDir(programDirectory string) (string, error) {
	dir, ok := findUp(programDirectory, filepath.Join("node_modules", "@pulumi", "pulumi", "package.json"))
	if !ok {
		return "", fmt.Errorf("@pulumi/pulumi is not installed in %s or above: run `pulumi install` or `npm install`", programDirectory)
	}
	return filepath.Join(dir, "node_modules", "@pulumi", "pulumi"), nil
}

// requiredPackages lists every Pulumi resource package installed for the program: all of them, whether or not
// this run will register a resource of theirs. The engine pre-installs what it can and loads providers lazily.
// Nothing installed (no node_modules yet) requires nothing; running such a program fails with its own message.
func requiredPackages(info *pulumirpc.ProgramInfo) ([]pulumiPackage, error) {
	dir, ok := findUp(info.GetProgramDirectory(), "node_modules")
	if !ok {
		return nil, nil
	}
	return scanNodeModules(filepath.Join(dir, "node_modules"))
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range pkgs {
		dep := &pulumirpc.PackageDependency{Name: p.Name, Kind: "resource", Version: p.Version, Server: p.Server}
		if p.Parameterization != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Parameterization.Name, Version: p.Parameterization.Version, Value: p.Parameterization.Value,
			}
		}
		out.Packages = append(out.Packages, dep)
	}
	return out, nil
}

// GetRequiredPlugins is the deprecated form of GetRequiredPackages (no parameterization), for older engines.
func (h *host) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range pkgs {
		if p.Parameterization == nil {
			out.Plugins = append(out.Plugins, &pulumirpc.PluginDependency{Name: p.Name, Kind: "resource", Version: p.Version, Server: p.Server})
		}
	}
	return out, nil
}

// runResponse turns the runner's exit into the engine's answer: success, a bail (the program already printed
// its error) or an error message.
func runResponse(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Node.js program was terminated by signal %v", ws.Signal())}
		}
		if exit.ExitCode() == exitCodeBail {
			return &pulumirpc.RunResponse{Bail: true}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Node.js program exited with code %d", exit.ExitCode())}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Node.js program: %v", err)}
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return nil, status.Error(codes.Unimplemented, "this language host cannot attach a debugger")
	}
	info := req.GetInfo()
	programDir, entry := info.GetProgramDirectory(), info.GetEntryPoint()
	if info == nil { // an engine that predates ProgramInfo
		programDir, entry = req.GetPwd(), req.GetProgram() //nolint:staticcheck // fallback for old engines
	}
	opts, err := parseRuntimeOptions(info.GetOptions().AsMap())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	sdk, err := sdkDir(programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := programEnv(withNodeCompileCache(os.Environ(), nodeCompileCacheDir()), req.GetConfig(), req.GetConfigSecretKeys(), opts)
	if err != nil {
		return nil, err
	}
	args := nodeRunArgs(opts, programRun{
		RunScript:     filepath.Join(sdk, "cmd", "run"),
		Monitor:       req.GetMonitorAddress(),
		Engine:        h.engineAddress(),
		Project:       req.GetProject(),
		Stack:         req.GetStack(),
		Organization:  req.GetOrganization(),
		Pwd:           req.GetPwd(),
		RootDirectory: info.GetRootDirectory(),
		Program:       programPath(programDir, entry, req.GetPwd()),
		DryRun:        req.GetDryRun(),
		Parallel:      req.GetParallel(),
		Tracing:       h.tracing,
		Args:          req.GetArgs(),
	})
	cmd := exec.Command("node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return runResponse(h.runToCompletion(ctx, cmd)), nil
}

// runToCompletion starts cmd in its own process group, remembered for Cancel, and waits for it; a cancelled
// request kills the group.
func (h *host) runToCompletion(ctx context.Context, cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.mu.Lock()
	h.running[cmd] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.running, cmd)
		h.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { killGroup(cmd) })
	defer stop()
	return cmd.Wait()
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Cancel stops every program and plugin this host started (the engine calls it when it shuts down).
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		killGroup(cmd)
	}
	return &emptypb.Empty{}, nil
}

// streamWriter sends what a child process writes as messages of a server stream (Send is not safe for
// concurrent use, hence the shared lock).
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(append([]byte{}, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin runs a plugin written in Node.js: a policy pack (kind "analyzer", through the SDK's
// cmd/run-policy-pack) or a provider/tool (through cmd/run-plugin), streaming its output and exit code.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	if req.GetAttachDebugger() {
		return status.Error(codes.Unimplemented, "this language host cannot attach a debugger")
	}
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if info == nil {
		dir = req.GetProgram() //nolint:staticcheck // fallback for old engines
	}
	opts, err := parseRuntimeOptions(info.GetOptions().AsMap())
	if err != nil {
		return err
	}
	sdk, err := sdkDir(dir)
	if err != nil {
		return err
	}
	cmd := exec.Command("node", nodePluginArgs(opts, req.GetKind(), sdk, dir, req.GetArgs())...)
	// A plugin runs in its own directory, not the engine's (req.Pwd): @pulumi/policy's PolicyPack reads the
	// pack's version from ./package.json.
	cmd.Dir = dir
	env := os.Environ()
	if len(req.GetEnv()) > 0 {
		env = req.GetEnv()
	}
	cmd.Env = withNodeCompileCache(env, nodeCompileCacheDir())
	var mu sync.Mutex
	cmd.Stdout = streamWriter{&mu, func(b []byte) error {
		return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	cmd.Stderr = streamWriter{&mu, func(b []byte) error {
		return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}
	err = h.runToCompletion(stream.Context(), cmd)
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// npmInstallArgs: `npm ci` for a fresh checkout with a lockfile (reproducible), else `npm install` (which keeps
// an existing node_modules and respects the lockfile).
func npmInstallArgs(dir string) []string {
	_, lockErr := os.Stat(filepath.Join(dir, "package-lock.json"))
	_, nmErr := os.Stat(filepath.Join(dir, "node_modules"))
	if lockErr == nil && errors.Is(nmErr, os.ErrNotExist) {
		return []string{"ci", "--no-audit", "--no-fund"}
	}
	return []string{"install", "--no-audit", "--no-fund"}
}

// InstallDependencies runs npm in the directory of the program's package.json, streaming its output.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	dir := req.GetInfo().GetProgramDirectory()
	if req.GetInfo() == nil {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for old engines
	}
	if _, err := parseRuntimeOptions(req.GetInfo().GetOptions().AsMap()); err != nil {
		return err
	}
	root, ok := findUp(dir, "package.json")
	if !ok {
		return fmt.Errorf("no package.json in %s or above", dir)
	}
	args := npmInstallArgs(root)
	var mu sync.Mutex
	out := streamWriter{&mu, func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	errw := streamWriter{&mu, func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	fmt.Fprintf(out, "npm %s in %s\n", strings.Join(args, " "), root)
	cmd := exec.Command("npm", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, errw
	if err := h.runToCompletion(stream.Context(), cmd); err != nil {
		return fmt.Errorf("npm %s failed: %w", strings.Join(args, " "), err)
	}
	return nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: %w", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimPrefix(strings.TrimSpace(string(out)), "v")}, nil
}

func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if req.GetInfo() == nil {
		dir = req.GetPwd() //nolint:staticcheck // fallback for old engines
	}
	deps, err := programDependencies(dir, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	out := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		out.Dependencies = append(out.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return out, nil
}

var _ io.Writer = streamWriter{}
