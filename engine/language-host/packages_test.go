package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPulumiPackageOf(t *testing.T) {
	pkg, ok, err := pulumiPackageOf([]byte(`{"name":"@pulumi/kubernetes","version":"4.34.2","pulumi":{"resource":true,"name":"kubernetes","version":"4.34.2","server":"https://example.com/plugins"}}`))
	if err != nil || !ok || pkg.Name != "kubernetes" || pkg.Version != "4.34.2" || pkg.Server != "https://example.com/plugins" {
		t.Fatalf("got %+v %v %v", pkg, ok, err)
	}
	// The block may omit name and version: the package's own name (without scope) and version stand in.
	pkg, ok, _ = pulumiPackageOf([]byte(`{"name":"@acme/widgets","version":"v1.2.3","pulumi":{"resource":true}}`))
	if !ok || pkg.Name != "widgets" || pkg.Version != "1.2.3" {
		t.Fatalf("defaults: %+v", pkg)
	}
	for _, notPlugin := range []string{
		`{"name":"@pulumi/pulumi","pulumi":{"comment":"Do not remove"}}`,
		`{"name":"@pulumi/policy","version":"1.21.0"}`,
		`{"name":"x","pulumi":{"resource":false,"name":"x"}}`,
	} {
		if _, ok, err := pulumiPackageOf([]byte(notPlugin)); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v", notPlugin, ok, err)
		}
	}
	pkg, ok, err = pulumiPackageOf([]byte(`{"name":"@pulumi/terraform-provider","pulumi":{"resource":true,"name":"terraform-provider","version":"0.3.0","parameterization":{"name":"vault","version":"v4.0.0","value":"aGVsbG8="}}}`))
	if err != nil || !ok || pkg.Parameterization == nil || pkg.Parameterization.Name != "vault" ||
		pkg.Parameterization.Version != "4.0.0" || string(pkg.Parameterization.Value) != "hello" {
		t.Fatalf("parameterized: %+v %v", pkg, err)
	}
	if _, _, err := pulumiPackageOf([]byte(`{not json`)); err == nil {
		t.Error("broken package.json must be an error")
	}
}

func TestScanNodeModules(t *testing.T) {
	nm := filepath.Join(t.TempDir(), "node_modules")
	write(t, filepath.Join(nm, "@pulumi/kubernetes/package.json"), `{"name":"@pulumi/kubernetes","version":"4.34.2","pulumi":{"resource":true,"name":"kubernetes","version":"4.34.2"}}`)
	write(t, filepath.Join(nm, "@pulumi/pulumi/package.json"), `{"name":"@pulumi/pulumi","version":"3.270.0","pulumi":{"comment":"x"}}`)
	write(t, filepath.Join(nm, "@pulumi/aws/package.json"), `{"name":"@pulumi/aws","version":"7.48.0","pulumi":{"resource":true,"name":"aws","version":"7.48.0"}}`)
	// A nested copy at another version is a second requirement; the same version again is deduplicated.
	write(t, filepath.Join(nm, "@pulumi/eks/package.json"), `{"name":"@pulumi/eks","version":"4.3.0","pulumi":{"resource":true,"name":"eks","version":"4.3.0"}}`)
	write(t, filepath.Join(nm, "@pulumi/eks/node_modules/@pulumi/aws/package.json"), `{"name":"@pulumi/aws","version":"6.0.0","pulumi":{"resource":true,"name":"aws","version":"6.0.0"}}`)
	write(t, filepath.Join(nm, "left-pad/node_modules/@pulumi/kubernetes/package.json"), `{"name":"@pulumi/kubernetes","version":"4.34.2","pulumi":{"resource":true,"name":"kubernetes","version":"4.34.2"}}`)
	// Files that are not package manifests are ignored.
	write(t, filepath.Join(nm, "left-pad/package.json"), `{"name":"left-pad","version":"1.0.0"}`)
	write(t, filepath.Join(nm, "left-pad/test/fixture/package.json"), `{"name":"fixture","pulumi":{"resource":true,"name":"fixture"}}`)
	write(t, filepath.Join(nm, ".bin/package.json"), `{"pulumi":{"resource":true,"name":"bin"}}`)

	pkgs, err := scanNodeModules(nm)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version)
	}
	want := []string{"aws@6.0.0", "aws@7.48.0", "eks@4.3.0", "kubernetes@4.34.2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	// Through a symlinked node_modules (how the tests share the repository's install).
	link := filepath.Join(t.TempDir(), "node_modules")
	if err := os.Symlink(nm, link); err != nil {
		t.Fatal(err)
	}
	if viaLink, err := scanNodeModules(link); err != nil || len(viaLink) != len(want) {
		t.Fatalf("via symlink: %v %v", viaLink, err)
	}

	// A corrupt manifest is reported, not skipped.
	write(t, filepath.Join(nm, "@pulumi/random/package.json"), `{"name":`)
	if _, err := scanNodeModules(nm); err == nil || !strings.Contains(err.Error(), "random") {
		t.Fatalf("expected an error naming the broken package, got %v", err)
	}
	// No node_modules at all: nothing required, no error.
	if pkgs, err := scanNodeModules(filepath.Join(t.TempDir(), "node_modules")); err != nil || len(pkgs) != 0 {
		t.Fatalf("missing node_modules: %v %v", pkgs, err)
	}
}

func TestFindUpAndDependencies(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "package.json"), `{"name":"p","dependencies":{"@pulumi/pulumi":"3.270.0","missing":"^1.0.0"},"devDependencies":{"tsx":"4.23.15"}}`)
	write(t, filepath.Join(root, "node_modules/@pulumi/pulumi/package.json"), `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	write(t, filepath.Join(root, "node_modules/tsx/package.json"), `{"name":"tsx","version":"4.23.15"}`)
	write(t, filepath.Join(root, "node_modules/esbuild/package.json"), `{"name":"esbuild","version":"0.28.2"}`)
	sub := filepath.Join(root, "stacks")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if dir, ok := findUp(sub, "node_modules/@pulumi/pulumi/package.json"); !ok || dir != root {
		t.Fatalf("findUp = %q %v", dir, ok)
	}
	if _, ok := findUp(sub, "no/such/file"); ok {
		t.Fatal("findUp found a file that does not exist")
	}
	direct, err := programDependencies(sub, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []dependency{{"@pulumi/pulumi", "3.270.0"}, {"missing", "^1.0.0"}, {"tsx", "4.23.15"}}
	if !reflect.DeepEqual(direct, want) {
		t.Fatalf("direct: %v", direct)
	}
	all, _ := programDependencies(sub, true)
	if len(all) != 4 || all[1].Name != "esbuild" {
		t.Fatalf("transitive: %v", all)
	}
}

func TestNpmInstallArgs(t *testing.T) {
	dir := t.TempDir()
	if got := npmInstallArgs(dir)[0]; got != "install" {
		t.Errorf("no lockfile: %s", got)
	}
	write(t, filepath.Join(dir, "package-lock.json"), "{}")
	if got := npmInstallArgs(dir)[0]; got != "ci" {
		t.Errorf("lockfile, no node_modules: %s", got)
	}
	if err := os.Mkdir(filepath.Join(dir, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := npmInstallArgs(dir)[0]; got != "install" {
		t.Errorf("lockfile and node_modules: %s", got)
	}
}
