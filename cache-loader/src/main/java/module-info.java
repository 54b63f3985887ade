/** Safetensors parsing, validation and fast loading into pluggable sinks. */
module dev.modelcache.loader {
}
