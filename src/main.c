/* main.c — placeholder until the command table lands. */
#include <stdio.h>

int main(void)
{
    printf("TechChallengeApp version %s\n", TCA_VERSION);
    return 0;
}
