package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Socket;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

class LazyTrustManagersTest {

  /** Records the checks it is asked for; refuses a server chain of length 0. */
  static final class Recording extends X509ExtendedTrustManager {
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized void checkClientTrusted(X509Certificate[] c, String a, Socket s) {
      calls.add("client/socket " + a);
    }

    @Override
    public synchronized void checkServerTrusted(X509Certificate[] c, String a, Socket s)
        throws CertificateException {
      calls.add("server/socket " + a);
      if (c.length == 0) {
        throw new CertificateException("empty chain");
      }
    }

    @Override
    public synchronized void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {
      calls.add("client/engine " + a);
    }

    @Override
    public synchronized void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {
      calls.add("server/engine " + a);
    }

    @Override
    public synchronized void checkClientTrusted(X509Certificate[] c, String a) {
      calls.add("client " + a);
    }

    @Override
    public synchronized void checkServerTrusted(X509Certificate[] c, String a) {
      calls.add("server " + a);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Test
  void theDelegateIsBuiltOnTheFirstCheckOnlyAndDecidesEveryCheck() throws Exception {
    AtomicInteger built = new AtomicInteger();
    Recording decides = new Recording();
    var tm = (X509ExtendedTrustManager) new LazyTrustManagers(() -> {
          built.incrementAndGet();
          return decides;
        })
        .trustManagers()[0];
    assertThat(built).as("setting up the TLS context builds nothing").hasValue(0);

    X509Certificate[] none = new X509Certificate[0];
    assertThatThrownBy(() -> tm.checkServerTrusted(none, "RSA", (Socket) null))
        .isInstanceOf(CertificateException.class)
        .hasMessage("empty chain");
    tm.checkServerTrusted(none, "EC", (SSLEngine) null);
    tm.checkClientTrusted(none, "RSA", (Socket) null);
    tm.checkClientTrusted(none, "RSA", (SSLEngine) null);
    tm.checkServerTrusted(none, "RSA");
    tm.checkClientTrusted(none, "RSA");
    assertThat(built).hasValue(1);
    assertThat(decides.calls)
        .containsExactly(
            "server/socket RSA",
            "server/engine EC",
            "client/socket RSA",
            "client/engine RSA",
            "server RSA",
            "client RSA");
  }

  @Test
  void concurrentFirstHandshakesBuildOneDelegate() throws Exception {
    AtomicInteger built = new AtomicInteger();
    var tm = (X509ExtendedTrustManager) new LazyTrustManagers(() -> {
          built.incrementAndGet();
          return new Recording();
        })
        .trustManagers()[0];
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        done.add(pool.submit(() -> {
          start.await();
          tm.checkServerTrusted(new X509Certificate[1], "RSA", (SSLEngine) null);
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(built).hasValue(1);
  }

  @Test
  void aTrustStoreThatCannotBeLoadedFailsTheHandshakeNamingWhy() {
    var tm = (X509ExtendedTrustManager) new LazyTrustManagers(() -> {
          throw new GeneralSecurityException("keystore tampered with");
        })
        .trustManagers()[0];
    assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[1], "RSA"))
        .isInstanceOf(CertificateException.class)
        .hasMessageContaining("cannot load the JDK's trust store")
        .hasMessageContaining("keystore tampered with");
  }

  @Test
  void theRealDelegateIsTheJdksDefaultTrustManager() throws Exception {
    var tm = (X509ExtendedTrustManager) new LazyTrustManagers().trustManagers()[0];
    assertThat(tm.getAcceptedIssuers())
        .as("the JDK's CA certificates")
        .isNotEmpty()
        .hasSameSizeAs(LazyTrustManagers.jdkDefault().getAcceptedIssuers());
    // A self-issued chain of nothing trusted is refused as the default refuses it.
    assertThatThrownBy(() -> tm.checkServerTrusted(new X509Certificate[0], "RSA"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void onlyPlainHttpEndpointsGetTheLazyTrustManagers() {
    assertThat(S3Clients.trustFor(URI.create("http://minio.models.svc:9000")))
        .isInstanceOf(LazyTrustManagers.class);
    assertThat(S3Clients.trustFor(URI.create("HTTP://10.0.0.5:9000")))
        .isInstanceOf(LazyTrustManagers.class);
    assertThat(S3Clients.trustFor(URI.create("https://s3.eu-west-1.amazonaws.com")))
        .isNull();
    assertThat(S3Clients.trustFor(null)).as("AWS itself").isNull();
  }
}
