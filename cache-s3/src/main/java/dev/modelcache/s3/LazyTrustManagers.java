package dev.modelcache.s3;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import software.amazon.awssdk.http.TlsTrustManagersProvider;

/**
 * The JDK's default trust manager, built only when a TLS handshake first needs it: for a client of
 * a plain-HTTP endpoint (a MinIO or S3Proxy inside the cluster), which makes no TLS connection at
 * all. The HTTP client sets up its TLS context when it is built, and the default trust manager
 * parses every certificate of the JDK's CA store for it: about 0.2 s of a command's start on the
 * project's 2-core VM (`benchmarks/download-profile.md`). Once built, the delegate decides every
 * check exactly as the default would.
 *
 * <p>Thread-safe: the delegate is built once, by whichever handshake comes first.
 */
final class LazyTrustManagers implements TlsTrustManagersProvider {

  /** Builds the trust manager that decides. */
  @FunctionalInterface
  interface Factory {
    X509ExtendedTrustManager create() throws GeneralSecurityException;
  }

  private final Factory factory;

  LazyTrustManagers() {
    this(LazyTrustManagers::jdkDefault);
  }

  LazyTrustManagers(Factory factory) {
    this.factory = factory;
  }

  @Override
  public TrustManager[] trustManagers() {
    return new TrustManager[] {new Lazy(factory)};
  }

  /** The trust manager {@link TrustManagerFactory}'s default algorithm gives for the JDK's CA store. */
  static X509ExtendedTrustManager jdkDefault() throws GeneralSecurityException {
    TrustManagerFactory f =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    f.init((KeyStore) null);
    for (TrustManager t : f.getTrustManagers()) {
      if (t instanceof X509ExtendedTrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException(String.format(
        Locale.ROOT,
        "the %s trust manager factory gives no X509ExtendedTrustManager",
        f.getAlgorithm()));
  }

  private static final class Lazy extends X509ExtendedTrustManager {
    private final Factory factory;
    private volatile X509ExtendedTrustManager delegate;

    Lazy(Factory factory) {
      this.factory = factory;
    }

    private X509ExtendedTrustManager delegate() throws CertificateException {
      X509ExtendedTrustManager d = delegate;
      if (d == null) {
        synchronized (this) {
          d = delegate;
          if (d == null) {
            try {
              d = factory.create();
            } catch (GeneralSecurityException e) {
              throw new CertificateException("cannot load the JDK's trust store: " + e, e);
            }
            delegate = d;
          }
        }
      }
      return d;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      try {
        return delegate().getAcceptedIssuers();
      } catch (CertificateException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }
  }
}
