import { createTransport, type Transporter } from 'nodemailer';
import { TimedOutError } from './webhook-sender';

export interface EmailSettings {
  /** SMTP_URL: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465. */
  readonly smtpUrl: string;
  /** ALERT_EMAIL_FROM. */
  readonly from: string;
  /** The whole attempt, connection to the server's answer; then it is abandoned as "timed out". */
  readonly timeoutMs: number;
}

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Message-ID seed and X-Jobwatch-Delivery header: one delivery is one message, whatever its retries. */
  readonly deliveryId: string;
}

/** An SMTP refusal as the delivery log keeps it: the server's reply code and its message. */
export class SmtpRefusedError extends Error {
  override readonly name = 'SmtpRefusedError';
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sends alert emails through SMTP_URL with nodemailer. One connection per message (no pool):
 * an alert is rare, and a server that went bad never holds a connection others wait on. Every
 * stage (connect, greeting, each reply) is bounded by the attempt's timeout, and so is the whole
 * attempt, so a server that accepts and then says nothing costs one attempt, never a stuck
 * delivery. Answers the server's reply code to the message.
 */
export class EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly settings: EmailSettings) {
    this.transport = createTransport({
      url: settings.smtpUrl,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(email: Email): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOutError()), this.settings.timeoutMs);
      timer.unref();
    });
    try {
      const info = await Promise.race([
        this.transport.sendMail({
          from: this.settings.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          headers: { 'X-Jobwatch-Delivery': email.deliveryId },
        }),
        timeout,
      ]);
      const code = /^(\d{3})/.exec(String((info as { response?: string }).response ?? ''));
      return code === null ? 250 : Number(code[1]);
    } catch (error) {
      const { responseCode, response } = error as { responseCode?: unknown; response?: unknown };
      if (typeof responseCode === 'number')
        throw new SmtpRefusedError(responseCode, `SMTP ${typeof response === 'string' ? response : responseCode}`.slice(0, 500));
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.transport.close();
  }
}
