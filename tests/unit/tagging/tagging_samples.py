"""Sample news texts written for these tests (not taken from any corpus)."""

TRADE = """There is no doubt in the European Union that Brazil supplies cheap steel to Argentina. This allows Argentina to keep its smelters running.

This was stated by EU Trade Commissioner Anna Lindqvist in an interview with Reuters, Daily Ledger reports with reference to Baltic News Service.

Asked about the tariffs, Lindqvist said: "We will respond within weeks if the dumping continues."

According to her, the Commission does not rule out that Brussels may impose duties of up to 25 percent.

"Our member states are deeply worried about the possible loss of 40,000 jobs," the Trade Commissioner said.

She emphasized that the bloc's partnership with Canada is becoming very important for European industry.

"The measures are temporary and targeted.

"They will be lifted once prices recover," she added.

The Nordic Fisheries Council (NFC) published new quotas on Monday. The NFC said that cod catches fell by 12 percent last year.

Moscow may provide Pyongyang with fuel, Russian officials told Agence France-Presse. The talks took place in Moscow.

The DPRK sent a delegation to the U.S. in March, and North Korea's envoy met American officials."""
