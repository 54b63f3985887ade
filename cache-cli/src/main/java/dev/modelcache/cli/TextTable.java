package dev.modelcache.cli;

import java.util.ArrayList;
import java.util.List;

/** Columns of text aligned for a terminal: the human form of list-like results. */
final class TextTable {

  private final List<String[]> rows = new ArrayList<>();
  private final boolean[] rightAligned;

  /** A table with these headings; a heading that starts with {@code >} is right-aligned. */
  TextTable(String... headings) {
    rightAligned = new boolean[headings.length];
    String[] names = new String[headings.length];
    for (int i = 0; i < headings.length; i++) {
      rightAligned[i] = headings[i].startsWith(">");
      names[i] = rightAligned[i] ? headings[i].substring(1) : headings[i];
    }
    rows.add(names);
  }

  TextTable row(Object... cells) {
    if (cells.length != rightAligned.length) {
      throw new IllegalArgumentException(
          "expected " + rightAligned.length + " cells, got " + cells.length);
    }
    String[] text = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      text[i] = String.valueOf(cells[i]);
    }
    rows.add(text);
    return this;
  }

  @Override
  public String toString() {
    int[] widths = new int[rightAligned.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    var sb = new StringBuilder();
    for (String[] row : rows) {
      var line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        if (i > 0) {
          line.append("  ");
        }
        String pad = " ".repeat(widths[i] - row[i].length());
        line.append(rightAligned[i] ? pad + row[i] : row[i] + pad);
      }
      sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return sb.toString().stripTrailing();
  }
}
