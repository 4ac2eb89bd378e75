"""The classifiers (encoder, BiLSTM), their tokenisation and checkpoint loading."""
