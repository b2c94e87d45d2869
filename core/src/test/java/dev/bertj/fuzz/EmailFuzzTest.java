package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.data.Email;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The e-mail parser documents that nothing throws on bad input (spam is often malformed): any
 * exception is a finding, and the text comes out tidied.
 */
class EmailFuzzTest {
    @FuzzTest
    @Timeout(10)
    void email(byte[] input) {
        // The corpus is read as text already decoded; both decodings reach different code.
        String raw = (input.length > 0 && (input[0] & 1) == 1)
                ? new String(input, StandardCharsets.ISO_8859_1) : new String(input, StandardCharsets.UTF_8);
        long before = Contract.allocated();
        String text = Email.toText(raw);
        String subject = Email.subject(raw);
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 1024L * raw.length(), "Email.toText");
        assertFalse(text.startsWith("\n") || text.endsWith("\n") || text.contains("\n\n\n"), "untidy text");
        assertFalse(subject.contains("\n"), "subject has a line break");
    }
}
