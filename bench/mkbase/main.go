// Command mkbase writes the busybox-static base image the build benchmark
// and manual tests use: an OCI layout (for --build-context) and, with
// -docker-archive, a `docker load` tarball. It prints the layout's
// oci-layout:// build context on stdout.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dplug/dplug/internal/testenv"
)

func main() {
	bin := flag.String("busybox", testenv.BusyboxPath, "static busybox binary")
	layout := flag.String("layout", "", "write an OCI layout to this directory")
	archive := flag.String("docker-archive", "", "write a docker load tarball to this file")
	tag := flag.String("tag", "dplug-bench/busybox:latest", "tag of the docker archive image")
	push := flag.String("push", "", "also push the image to this reference (plain HTTP)")
	flag.Parse()
	if err := run(*bin, *layout, *archive, *tag, *push); err != nil {
		fmt.Fprintln(os.Stderr, "mkbase:", err)
		os.Exit(1)
	}
}

func run(bin, layout, archive, tag, push string) error {
	img, err := testenv.BusyboxImage(bin)
	if err != nil {
		return err
	}
	if layout != "" {
		dig, err := testenv.WriteOCILayout(layout, img, "latest")
		if err != nil {
			return err
		}
		fmt.Printf("oci-layout://%s@%s\n", layout, dig)
	}
	if archive != "" {
		if err := testenv.WriteDockerArchive(archive, img, tag); err != nil {
			return err
		}
	}
	if push != "" {
		if err := testenv.PushRef(img, push); err != nil {
			return err
		}
	}
	return nil
}
