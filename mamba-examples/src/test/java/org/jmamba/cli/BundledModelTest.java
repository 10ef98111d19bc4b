package org.jmamba.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jmamba.io.Checkpoint;
import org.jmamba.io.Checkpoints;
import org.jmamba.tokenizer.Tokenizer;
import org.jmamba.train.LossEvaluation;
import org.jmamba.train.TokenCorpus;
import org.junit.jupiter.api.Test;

class BundledModelTest {

    @Test
    void theBundledByteModelLoadsAndKnowsItsText() throws Exception {
        assertTrue(BundledModel.available());
        Path dir = BundledModel.extract();
        for (String f : BundledModel.FILES) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        Checkpoint ck = Checkpoints.load(dir);
        assertEquals(257, ck.config().vocabSize());
        assertEquals(256, ck.ids().eos().getAsInt());
        Tokenizer tok = CliSupport.loadTokenizer(dir, null, true);
        assertEquals(257, tok.vocabSize());

        // The model has learnt the text: a verse it was trained on costs far less than the 5.55
        // nats/byte of a uniform guess (it reached about 1.2 in training).
        String verse = "  3 And God said, Let there be light: and there was light.\n";
        int[] ids = tok.encode(verse);
        try (CliSupport.LoadedModel m = CliSupport.loadModel(dir, 1)) {
            // one window: the whole verse, each byte predicted from the ones before it
            double loss = new LossEvaluation(new TokenCorpus(ids, 257), 1, ids.length - 1, 1, 1)
                    .evaluate(m.model()).get("val_loss");
            assertTrue(loss < 2.0, "loss " + loss);
        }
    }
}
