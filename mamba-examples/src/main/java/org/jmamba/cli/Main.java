package org.jmamba.cli;

/** Placeholder entry point until the CLI lands. */
public final class Main {
    public static void main(String[] args) {
        System.err.println("jmamba: CLI under construction");
        System.exit(2);
    }
}
