/** The {@code modelcache} command line tool. */
package dev.modelcache.cli;
