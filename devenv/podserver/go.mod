// The stand-in process for pods on networked nodes whose image is not agnhost (docs/pods.md). Standard
// library only, so it builds offline and costs a few MiB per pod.
module cloud-provider-localstack/devenv/podserver

go 1.26.0
