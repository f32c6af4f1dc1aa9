// A real n8n takes minutes to install on the first run and seconds to start.
jest.setTimeout(15 * 60 * 1000);
