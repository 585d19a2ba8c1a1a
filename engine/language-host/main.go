// Command pulumi-language-nodejs is NKP's own Pulumi language host for Node.js, written on the gRPC types and
// helpers of github.com/pulumi/pulumi/sdk/v3. The Pulumi CLI starts it as
//
//	pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing <url>] <engine-address>
//
// and reads the port it serves on from the first line of its stdout. The host runs programs with the `node` on
// PATH through the runners @pulumi/pulumi ships (cmd/run, cmd/run-policy-pack, cmd/run-plugin), found in the
// program's node_modules, with the Pulumi.yaml runtime options nodeargs, typescript and tsconfig.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is what GetPluginInfo reports (the engine records it in the deployment's manifest).
const version = "0.1.0"

func main() {
	// -v and -logtostderr are registered by glog, which the SDK's logging package imports.
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the Node.js runner")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	if err := serve(flag.Arg(0), *tracing); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func serve(engineAddress, tracing string) error {
	h := newHost(engineAddress, tracing, version)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// Exit when the engine goes away, rather than outliving it.
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Second, stop); err != nil {
			return fmt.Errorf("could not watch the engine at %s: %w", engineAddress, err)
		}
	}
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OTelServerInterceptorOptions(),
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d\n", handle.Port)
	err = <-handle.Done
	_, _ = h.Cancel(context.Background(), nil)
	return err
}
