/** Safetensors parsing, validation and fast loading into pluggable sinks. */
module dev.modelcache.loader {
    requires dev.modelcache.common;
    requires static dev.modelcache.core; // only ReadThrough uses it; loader-only users need not have it
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT

    exports dev.modelcache.loader;
}
