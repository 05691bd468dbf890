/* Must not link: zimsim links base only, so the bridge's validation is
 * not there to call even when declared by hand. */
int event_parse(void *ev, int kind, const char *data, unsigned long len,
                const void *lim, void *err);
int main(void)
{
    return event_parse(0, 0, "", 0, 0, 0);
}
