package dev.modelcache.agent;

import java.io.IOException;
import java.util.Map;

/** Where the agent reports each model's state: the LocalModelNode status, or the log. */
interface StatusSink {

  /**
   * Publishes the state of every model of the spec; called on the agent's loop thread, only when
   * something changed. A failure is retried with the next change or resync.
   */
  void publish(Map<String, ModelState> states) throws IOException;
}
