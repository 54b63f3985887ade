package dev.modelcache.agent.kserve;

/** The API group and version of KServe's local model cache resources. */
public final class KServe {

  /** {@code serving.kserve.io}. */
  public static final String GROUP = "serving.kserve.io";

  /** {@code v1alpha1}. */
  public static final String VERSION = "v1alpha1";

  private KServe() {}
}
