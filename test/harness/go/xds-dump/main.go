// Command xds-dump reads the Envoy configuration a running Envoy Gateway serves, the way an Envoy proxy would:
// it opens one mTLS ADS stream as the given node (the node's cluster selects the Gateway's snapshot), asks for
// clusters, listeners and routes, and prints what it received as one JSON object
// {"clusters": [...], "listeners": [...], "routes": [...]} (typed configs decoded: every
// extension Envoy Gateway can emit is linked in, see zz_extensions.go, generated at build time).
//
// Built by scripts/build-gateway-controllers.mjs next to envoy-gateway; used by test/harness/gateway-controllers.ts.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/encoding/protojson"
)

func main() {
	addr := flag.String("addr", "", "xDS server: host:port or unix:///path")
	serverName := flag.String("server-name", "envoy-gateway", "name the server certificate is checked against")
	certDir := flag.String("cert-dir", "", "directory with ca.crt, tls.crt and tls.key of an Envoy client (certgen's envoy Secret)")
	cluster := flag.String("node-cluster", "", "the node's cluster: Envoy Gateway's key of the Gateway (<namespace>/<name>)")
	nodeID := flag.String("node-id", "nkp-xds-dump", "node id")
	timeout := flag.Duration("timeout", 15*time.Second, "overall deadline")
	flag.Parse()
	if *addr == "" || *certDir == "" || *cluster == "" {
		fail("usage: xds-dump --addr A --cert-dir D --node-cluster NS/NAME")
	}
	out, err := dump(*addr, *serverName, *certDir, &corev3.Node{Id: *nodeID, Cluster: *cluster}, *timeout)
	if err != nil {
		fail(err.Error())
	}
	_, _ = os.Stdout.Write(out)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "xds-dump:", msg)
	os.Exit(1)
}

func tlsConfig(dir, serverName string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(dir+"/tls.crt", dir+"/tls.key")
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(dir + "/ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no CA certificate in %s/ca.crt", dir)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
}

// The order Envoy itself asks in: clusters before listeners, listeners before the routes they name.
var order = []struct{ key, typeURL string }{
	{"clusters", resourcev3.ClusterType},
	{"listeners", resourcev3.ListenerType},
	{"routes", resourcev3.RouteType},
}

func dump(addr, serverName, certDir string, node *corev3.Node, timeout time.Duration) ([]byte, error) {
	cfg, err := tlsConfig(certDir, serverName)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	result := map[string][]json.RawMessage{}
	for _, o := range order {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: o.typeURL}); err != nil {
			return nil, fmt.Errorf("requesting %s: %w", o.key, err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("receiving %s: %w", o.key, err)
		}
		if resp.GetTypeUrl() != o.typeURL {
			return nil, fmt.Errorf("asked for %s, got %s", o.typeURL, resp.GetTypeUrl())
		}
		items := []json.RawMessage{}
		for _, r := range resp.GetResources() {
			msg, err := r.UnmarshalNew()
			if err != nil {
				return nil, fmt.Errorf("decoding a %s resource: %w", o.key, err)
			}
			b, err := protojson.Marshal(msg)
			if err != nil {
				return nil, fmt.Errorf("encoding a %s resource: %w", o.key, err)
			}
			items = append(items, b)
		}
		result[o.key] = items
		// ACK, as Envoy would; the next request asks for the next type on the same stream.
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: o.typeURL, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()}); err != nil {
			return nil, fmt.Errorf("acknowledging %s: %w", o.key, err)
		}
	}
	return json.Marshal(result)
}
