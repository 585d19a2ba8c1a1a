package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pulumiPackage is the Pulumi plugin an npm package stands for: its package.json carries a "pulumi" block with
// `"resource": true` and the plugin's name, version and (optionally) download server and parameterization.
type pulumiPackage struct {
	Name             string
	Version          string
	Server           string
	Parameterization *parameterization
}

type parameterization struct {
	Name    string
	Version string
	Value   []byte
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  *struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   string `json:"value"`
		} `json:"parameterization"`
	} `json:"pulumi"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

// pulumiPackageOf reads one package.json; ok is false for packages that are not Pulumi resource packages.
func pulumiPackageOf(data []byte) (pkg pulumiPackage, ok bool, err error) {
	var pj packageJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return pkg, false, err
	}
	if pj.Pulumi == nil || !pj.Pulumi.Resource {
		return pkg, false, nil
	}
	pkg.Name = pj.Pulumi.Name
	if pkg.Name == "" {
		// "@pulumi/aws" -> "aws": the convention when the block names no plugin.
		pkg.Name = pj.Name[strings.LastIndex(pj.Name, "/")+1:]
	}
	pkg.Version = pj.Pulumi.Version
	if pkg.Version == "" {
		pkg.Version = pj.Version
	}
	pkg.Version = strings.TrimPrefix(pkg.Version, "v")
	pkg.Server = pj.Pulumi.Server
	if p := pj.Pulumi.Parameterization; p != nil {
		value, err := base64.StdEncoding.DecodeString(p.Value)
		if err != nil {
			return pkg, false, fmt.Errorf("pulumi.parameterization.value of %s is not base64: %w", pj.Name, err)
		}
		pkg.Parameterization = &parameterization{Name: p.Name, Version: strings.TrimPrefix(p.Version, "v"), Value: value}
	}
	return pkg, true, nil
}

// scanNodeModules lists the Pulumi resource packages installed under a node_modules directory, nested
// node_modules included (a package may pin its own copy of another), deduplicated and sorted. It reads only
// <node_modules>/<name>/package.json and <node_modules>/@scope/<name>/package.json, recursing into each package's
// own node_modules. A package.json that cannot be parsed is an error: a broken install must not silently drop a
// requirement.
func scanNodeModules(nodeModules string) ([]pulumiPackage, error) {
	seen := map[string]pulumiPackage{}
	var errs []error
	var scan func(dir string)
	visitPackage := func(pkgDir string) {
		data, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		pkg, ok, err := pulumiPackageOf(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(pkgDir, "package.json"), err))
		} else if ok {
			seen[pkg.key()] = pkg
		}
		scan(filepath.Join(pkgDir, "node_modules"))
	}
	scan = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."):
				continue // .bin, .package-lock.json, .cache
			case strings.HasPrefix(name, "@"):
				scoped, err := os.ReadDir(filepath.Join(dir, name))
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, s := range scoped {
					visitPackage(filepath.Join(dir, name, s.Name()))
				}
			default:
				visitPackage(filepath.Join(dir, name))
			}
		}
	}
	scan(nodeModules)
	out := make([]pulumiPackage, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out, errors.Join(errs...)
}

func (p pulumiPackage) key() string {
	k := p.Name + "@" + p.Version
	if p.Parameterization != nil {
		k += "/" + p.Parameterization.Name + "@" + p.Parameterization.Version
	}
	return k
}

// findUp returns the first of dir, its parent, ... that contains rel (a file or directory).
func findUp(dir, rel string) (string, bool) {
	dir = filepath.Clean(dir)
	for {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// dependency is one npm package a program depends on, as `pulumi about` lists them.
type dependency struct{ Name, Version string }

// programDependencies lists the direct dependencies of the package.json nearest to dir with their installed
// versions (the range from package.json when the package is not installed); transitive adds every installed
// package instead.
func programDependencies(dir string, transitive bool) ([]dependency, error) {
	root, ok := findUp(dir, "package.json")
	if !ok {
		return nil, fmt.Errorf("no package.json in %s or above", dir)
	}
	data, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return nil, err
	}
	var pj packageJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(root, "package.json"), err)
	}
	names := map[string]string{}
	for n, v := range pj.Dependencies {
		names[n] = v
	}
	for n, v := range pj.DevDependencies {
		names[n] = v
	}
	nodeModules := filepath.Join(root, "node_modules")
	if transitive {
		entries, _ := os.ReadDir(nodeModules)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "@") {
				scoped, _ := os.ReadDir(filepath.Join(nodeModules, e.Name()))
				for _, s := range scoped {
					names[e.Name()+"/"+s.Name()] = ""
				}
			} else if !strings.HasPrefix(e.Name(), ".") {
				names[e.Name()] = ""
			}
		}
	}
	out := make([]dependency, 0, len(names))
	for name, wanted := range names {
		version := wanted
		if data, err := os.ReadFile(filepath.Join(nodeModules, name, "package.json")); err == nil {
			var installed packageJSON
			if json.Unmarshal(data, &installed) == nil && installed.Version != "" {
				version = installed.Version
			}
		}
		if version != "" {
			out = append(out, dependency{Name: name, Version: version})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
