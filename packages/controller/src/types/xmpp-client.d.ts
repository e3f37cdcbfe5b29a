// The part of @xmpp/client (which ships no types) that the notifier uses.
declare module '@xmpp/client' {
  interface XmlElement {
    toString(): string;
  }
  interface XmppClient {
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
    on(event: 'error' | 'offline' | 'online' | 'stanza', cb: (arg: unknown) => void): void;
    reconnect?: { stop(): void };
  }
  export function client(options: { service: string; domain: string; username: string; password: string; resource?: string }): XmppClient;
  export function xml(name: string, attrs?: Record<string, string>, ...children: (XmlElement | string)[]): XmlElement;
}
