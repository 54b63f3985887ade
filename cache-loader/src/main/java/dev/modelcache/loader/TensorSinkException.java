package dev.modelcache.loader;

import java.io.IOException;

/**
 * A {@link TensorSink} failed and the load was cancelled. The sink's exception is the
 * {@linkplain #getCause() cause}.
 */
public final class TensorSinkException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param tensor the tensor being delivered when the sink failed
     * @param cause the sink's exception
     */
    public TensorSinkException(String tensor, Throwable cause) {
        super("sink failed on tensor '" + tensor + "', load cancelled: " + cause, cause);
    }
}
