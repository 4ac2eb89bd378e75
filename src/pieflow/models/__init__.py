"""The classifiers (encoder, decoder, BiLSTM), their tokenisation and checkpoint loading."""
